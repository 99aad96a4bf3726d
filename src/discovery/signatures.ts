/**
 * What discovery recognises: provider keys (by variable name and by format), agent frameworks and MCP servers on
 * command lines, SDK imports per language, MCP client configuration files and default provider endpoints. Data
 * only; configuration extends it (see `discovery` in docs/discovery.md).
 */

/** An environment variable that holds a provider key. */
export interface KeyVariable {
  name: string;
  provider: string;
  /** Only counts when the process also shows one of these hints (AWS keys serve far more than Bedrock). */
  requiresHint?: RegExp;
}

export const KEY_VARIABLES: readonly KeyVariable[] = [
  { name: 'OPENAI_API_KEY', provider: 'openai' },
  { name: 'OPENAI_ADMIN_KEY', provider: 'openai' },
  { name: 'AZURE_OPENAI_API_KEY', provider: 'azure-openai' },
  { name: 'AZURE_OPENAI_KEY', provider: 'azure-openai' },
  { name: 'AZURE_API_KEY', provider: 'azure-openai' },
  { name: 'ANTHROPIC_API_KEY', provider: 'anthropic' },
  { name: 'ANTHROPIC_AUTH_TOKEN', provider: 'anthropic' },
  { name: 'CLAUDE_API_KEY', provider: 'anthropic' },
  { name: 'GOOGLE_API_KEY', provider: 'google' },
  { name: 'GEMINI_API_KEY', provider: 'google' },
  { name: 'GOOGLE_GENERATIVE_AI_API_KEY', provider: 'google' },
  { name: 'MISTRAL_API_KEY', provider: 'mistral' },
  { name: 'COHERE_API_KEY', provider: 'cohere' },
  { name: 'CO_API_KEY', provider: 'cohere' },
  { name: 'GROQ_API_KEY', provider: 'groq' },
  { name: 'TOGETHER_API_KEY', provider: 'together' },
  { name: 'FIREWORKS_API_KEY', provider: 'fireworks' },
  { name: 'OPENROUTER_API_KEY', provider: 'openrouter' },
  { name: 'XAI_API_KEY', provider: 'xai' },
  { name: 'DEEPSEEK_API_KEY', provider: 'deepseek' },
  { name: 'PERPLEXITY_API_KEY', provider: 'perplexity' },
  { name: 'HUGGINGFACEHUB_API_TOKEN', provider: 'huggingface' },
  { name: 'HF_TOKEN', provider: 'huggingface' },
  { name: 'AWS_ACCESS_KEY_ID', provider: 'bedrock', requiresHint: /bedrock/i },
  { name: 'AWS_BEARER_TOKEN_BEDROCK', provider: 'bedrock' },
];

/** A provider key format: a value matching it is a key whatever variable or file holds it. */
export interface KeyFormat {
  kind: string;
  provider: string;
  pattern: RegExp;
}

// Most specific first: an Anthropic or OpenRouter key also starts with `sk-`.
export const KEY_FORMATS: readonly KeyFormat[] = [
  {
    kind: 'anthropic-api-key',
    provider: 'anthropic',
    pattern: /sk-ant-(?:api|admin|oat)\d{0,2}-[A-Za-z0-9_-]{20,}/,
  },
  { kind: 'anthropic-api-key', provider: 'anthropic', pattern: /sk-ant-[A-Za-z0-9_-]{24,}/ },
  { kind: 'openrouter-api-key', provider: 'openrouter', pattern: /sk-or-v1-[a-f0-9]{48,}/ },
  { kind: 'openai-project-key', provider: 'openai', pattern: /sk-proj-[A-Za-z0-9_-]{20,}/ },
  { kind: 'openai-service-account-key', provider: 'openai', pattern: /sk-svcacct-[A-Za-z0-9_-]{20,}/ },
  { kind: 'openai-admin-key', provider: 'openai', pattern: /sk-admin-[A-Za-z0-9_-]{20,}/ },
  { kind: 'openai-api-key', provider: 'openai', pattern: /sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}/ },
  { kind: 'openai-api-key', provider: 'openai', pattern: /sk-[A-Za-z0-9]{32,}/ },
  { kind: 'google-api-key', provider: 'google', pattern: /AIza[0-9A-Za-z_-]{35}/ },
  { kind: 'aws-access-key-id', provider: 'aws', pattern: /(?:AKIA|ASIA)[0-9A-Z]{16}/ },
  { kind: 'groq-api-key', provider: 'groq', pattern: /gsk_[A-Za-z0-9]{48,}/ },
  { kind: 'xai-api-key', provider: 'xai', pattern: /xai-[A-Za-z0-9]{70,}/ },
  { kind: 'perplexity-api-key', provider: 'perplexity', pattern: /pplx-[A-Za-z0-9]{40,}/ },
  { kind: 'huggingface-token', provider: 'huggingface', pattern: /hf_[A-Za-z0-9]{30,}/ },
];

/** A program recognised on a command line. */
export interface CommandSignature {
  name: string;
  category: 'agent-framework' | 'agent-cli' | 'mcp-server';
  /** Tested against each argument and each path segment of it, lowercased. */
  token?: RegExp;
  /** Tested against the basename of the executable or of the first argument (the program). */
  program?: RegExp;
}

export const COMMAND_SIGNATURES: readonly CommandSignature[] = [
  { name: 'langchain', category: 'agent-framework', token: /(?:^|[^a-z])lang(?:chain|graph)(?:[^a-z]|$)/ },
  { name: 'crewai', category: 'agent-framework', token: /(?:^|[^a-z])crew_?ai(?:[^a-z]|$)/ },
  { name: 'autogen', category: 'agent-framework', token: /(?:^|[^a-z])(?:py)?autogen(?:[^a-z]|$)/ },
  { name: 'llama-index', category: 'agent-framework', token: /(?:^|[^a-z])llama[_-]?index(?:[^a-z]|$)/ },
  { name: 'semantic-kernel', category: 'agent-framework', token: /semantic[_-]kernel/ },
  { name: 'haystack', category: 'agent-framework', token: /(?:^|[^a-z])haystack(?:[^a-z]|$)/ },
  { name: 'smolagents', category: 'agent-framework', token: /smolagents/ },
  { name: 'pydantic-ai', category: 'agent-framework', token: /pydantic[_-]ai(?:[^a-z]|$)/ },
  { name: 'openai-agents', category: 'agent-framework', token: /openai[_-]agents|@openai\/agents/ },
  { name: 'vercel-ai', category: 'agent-framework', token: /@ai-sdk\// },
  { name: 'mastra', category: 'agent-framework', token: /@mastra\/|(?:^|[^a-z])mastra(?:[^a-z]|$)/ },
  { name: 'claude-agent-sdk', category: 'agent-framework', token: /claude[_-]agent[_-]sdk/ },
  { name: 'claude-code', category: 'agent-cli', token: /@anthropic-ai\/claude-code/, program: /^claude$/ },
  { name: 'codex', category: 'agent-cli', token: /@openai\/codex/, program: /^codex$/ },
  { name: 'gemini-cli', category: 'agent-cli', token: /@google\/gemini-cli/, program: /^gemini$/ },
  { name: 'aider', category: 'agent-cli', token: /(?:^|[^a-z])aider(?:[^a-z]|$)/, program: /^aider$/ },
  { name: 'goose', category: 'agent-cli', program: /^goose$/ },
  { name: 'open-interpreter', category: 'agent-cli', token: /open[_-]interpreter/, program: /^interpreter$/ },
  { name: 'cursor-agent', category: 'agent-cli', program: /^cursor-agent$/ },
  {
    name: 'mcp-server',
    category: 'mcp-server',
    token:
      /@modelcontextprotocol\/server-|(?:^|[^a-z])mcp[-_]server(?:[-_]|$)|[-_]mcp[-_]server(?:[^a-z]|$)|(?:^|[^a-z])fastmcp(?:[^a-z]|$)/,
  },
];

export type SdkCategory = 'llm-sdk' | 'agent-framework' | 'mcp-sdk';

/** A package or module whose import says "this code talks to a model or is an agent". */
export interface SdkSignature {
  /** The package (JS), top-level module (Python) or module path prefix (Go). */
  module: string;
  name: string;
  category: SdkCategory;
  provider?: string;
  /** Matches sub-paths too (`@langchain/openai`, `langchain_openai`). */
  prefix?: boolean;
}

export const JS_SDKS: readonly SdkSignature[] = [
  { module: 'openai', name: 'openai', category: 'llm-sdk', provider: 'openai' },
  { module: '@azure/openai', name: 'azure-openai', category: 'llm-sdk', provider: 'azure-openai' },
  { module: '@anthropic-ai/sdk', name: 'anthropic', category: 'llm-sdk', provider: 'anthropic' },
  {
    module: '@anthropic-ai/bedrock-sdk',
    name: 'anthropic-bedrock',
    category: 'llm-sdk',
    provider: 'bedrock',
  },
  {
    module: '@anthropic-ai/claude-agent-sdk',
    name: 'claude-agent-sdk',
    category: 'agent-framework',
    provider: 'anthropic',
  },
  { module: '@google/generative-ai', name: 'google-generative-ai', category: 'llm-sdk', provider: 'google' },
  { module: '@google/genai', name: 'google-genai', category: 'llm-sdk', provider: 'google' },
  { module: '@mistralai/mistralai', name: 'mistral', category: 'llm-sdk', provider: 'mistral' },
  { module: 'cohere-ai', name: 'cohere', category: 'llm-sdk', provider: 'cohere' },
  { module: 'groq-sdk', name: 'groq', category: 'llm-sdk', provider: 'groq' },
  { module: '@aws-sdk/client-bedrock-runtime', name: 'bedrock', category: 'llm-sdk', provider: 'bedrock' },
  {
    module: '@aws-sdk/client-bedrock-agent-runtime',
    name: 'bedrock-agents',
    category: 'agent-framework',
    provider: 'bedrock',
  },
  { module: 'ai', name: 'vercel-ai', category: 'agent-framework' },
  { module: '@ai-sdk/', name: 'vercel-ai', category: 'llm-sdk', prefix: true },
  { module: 'langchain', name: 'langchain', category: 'agent-framework' },
  { module: '@langchain/', name: 'langchain', category: 'agent-framework', prefix: true },
  { module: 'llamaindex', name: 'llama-index', category: 'agent-framework' },
  { module: '@openai/agents', name: 'openai-agents', category: 'agent-framework', provider: 'openai' },
  { module: '@mastra/', name: 'mastra', category: 'agent-framework', prefix: true },
  { module: '@modelcontextprotocol/sdk', name: 'mcp-sdk', category: 'mcp-sdk' },
];

export const PYTHON_SDKS: readonly SdkSignature[] = [
  { module: 'openai', name: 'openai', category: 'llm-sdk', provider: 'openai' },
  { module: 'anthropic', name: 'anthropic', category: 'llm-sdk', provider: 'anthropic' },
  { module: 'google.generativeai', name: 'google-generative-ai', category: 'llm-sdk', provider: 'google' },
  { module: 'google.genai', name: 'google-genai', category: 'llm-sdk', provider: 'google' },
  { module: 'vertexai', name: 'vertexai', category: 'llm-sdk', provider: 'google' },
  { module: 'mistralai', name: 'mistral', category: 'llm-sdk', provider: 'mistral' },
  { module: 'cohere', name: 'cohere', category: 'llm-sdk', provider: 'cohere' },
  { module: 'groq', name: 'groq', category: 'llm-sdk', provider: 'groq' },
  { module: 'litellm', name: 'litellm', category: 'llm-sdk' },
  { module: 'langchain', name: 'langchain', category: 'agent-framework', prefix: true },
  { module: 'langgraph', name: 'langchain', category: 'agent-framework', prefix: true },
  { module: 'crewai', name: 'crewai', category: 'agent-framework', prefix: true },
  { module: 'autogen', name: 'autogen', category: 'agent-framework', prefix: true },
  { module: 'llama_index', name: 'llama-index', category: 'agent-framework', prefix: true },
  { module: 'semantic_kernel', name: 'semantic-kernel', category: 'agent-framework' },
  { module: 'haystack', name: 'haystack', category: 'agent-framework' },
  { module: 'smolagents', name: 'smolagents', category: 'agent-framework' },
  { module: 'pydantic_ai', name: 'pydantic-ai', category: 'agent-framework' },
  { module: 'dspy', name: 'dspy', category: 'agent-framework' },
  {
    module: 'claude_agent_sdk',
    name: 'claude-agent-sdk',
    category: 'agent-framework',
    provider: 'anthropic',
  },
  { module: 'mcp', name: 'mcp-sdk', category: 'mcp-sdk' },
  { module: 'fastmcp', name: 'mcp-sdk', category: 'mcp-sdk' },
];

export const GO_SDKS: readonly SdkSignature[] = [
  { module: 'github.com/sashabaranov/go-openai', name: 'go-openai', category: 'llm-sdk', provider: 'openai' },
  { module: 'github.com/openai/openai-go', name: 'openai-go', category: 'llm-sdk', provider: 'openai' },
  {
    module: 'github.com/anthropics/anthropic-sdk-go',
    name: 'anthropic-sdk-go',
    category: 'llm-sdk',
    provider: 'anthropic',
  },
  {
    module: 'github.com/google/generative-ai-go',
    name: 'google-generative-ai',
    category: 'llm-sdk',
    provider: 'google',
  },
  { module: 'google.golang.org/genai', name: 'google-genai', category: 'llm-sdk', provider: 'google' },
  {
    module: 'github.com/aws/aws-sdk-go-v2/service/bedrockruntime',
    name: 'bedrock',
    category: 'llm-sdk',
    provider: 'bedrock',
  },
  { module: 'github.com/cohere-ai/cohere-go', name: 'cohere', category: 'llm-sdk', provider: 'cohere' },
  { module: 'github.com/tmc/langchaingo', name: 'langchain', category: 'agent-framework' },
  { module: 'github.com/cloudwego/eino', name: 'eino', category: 'agent-framework' },
  { module: 'github.com/firebase/genkit/go', name: 'genkit', category: 'agent-framework' },
  { module: 'github.com/mark3labs/mcp-go', name: 'mcp-sdk', category: 'mcp-sdk' },
  { module: 'github.com/modelcontextprotocol/go-sdk', name: 'mcp-sdk', category: 'mcp-sdk' },
];

/** Where MCP clients keep their server lists, and under which key. */
export interface McpClientConfigFile {
  client: string;
  /** Matched against the path relative to the scanned root, with `/` separators. */
  path: RegExp;
  format: 'json' | 'yaml' | 'toml';
}

export const MCP_CLIENT_CONFIG_FILES: readonly McpClientConfigFile[] = [
  { client: 'claude-desktop', path: /(?:^|\/)claude_desktop_config\.json$/, format: 'json' },
  { client: 'claude-code', path: /(?:^|\/)\.mcp\.json$/, format: 'json' },
  { client: 'claude-code', path: /(?:^|\/)\.claude\.json$/, format: 'json' },
  { client: 'claude-code', path: /(?:^|\/)\.claude\/settings(?:\.local)?\.json$/, format: 'json' },
  { client: 'cursor', path: /(?:^|\/)\.cursor\/mcp\.json$/, format: 'json' },
  { client: 'vscode', path: /(?:^|\/)\.vscode\/mcp\.json$/, format: 'json' },
  { client: 'vscode', path: /(?:^|\/)\.vscode\/settings\.json$/, format: 'json' },
  { client: 'windsurf', path: /(?:^|\/)(?:\.codeium\/windsurf\/)?mcp_config\.json$/, format: 'json' },
  { client: 'cline', path: /(?:^|\/)cline_mcp_settings\.json$/, format: 'json' },
  { client: 'roo-code', path: /(?:^|\/)\.roo\/mcp\.json$/, format: 'json' },
  { client: 'amazon-q', path: /(?:^|\/)\.amazonq\/(?:default\.json|mcp\.json)$/, format: 'json' },
  { client: 'gemini-cli', path: /(?:^|\/)\.gemini\/settings\.json$/, format: 'json' },
  { client: 'continue', path: /(?:^|\/)\.continue\/config\.json$/, format: 'json' },
  {
    client: 'continue',
    path: /(?:^|\/)\.continue\/(?:config\.ya?ml|mcpServers\/[^/]+\.ya?ml)$/,
    format: 'yaml',
  },
  { client: 'zed', path: /(?:^|\/)\.?zed\/settings\.json$/, format: 'json' },
  { client: 'codex', path: /(?:^|\/)\.codex\/config\.toml$/, format: 'toml' },
  { client: 'mcp-client', path: /(?:^|\/)mcp\.json$/, format: 'json' },
];

/** Gatehouse agent manifests kept beside code: a bare manifest, or `{name, manifest}`. */
export const MANIFEST_FILE = /(?:^|\/)(?:[^/]+\.)?(?:gatehouse-agent|agent-manifest)\.(?:ya?ml|json)$/;

/** Dependency declarations whose entries name SDKs. */
export const DEPENDENCY_FILES = {
  npm: /(?:^|\/)package\.json$/,
  python: /(?:^|\/)(?:requirements[^/]*\.txt|pyproject\.toml|Pipfile|setup\.py|setup\.cfg)$/,
  go: /(?:^|\/)go\.mod$/,
} as const;

/** Files that mark the root of a project; findings below one are grouped into one candidate. */
export const PROJECT_MARKERS: readonly string[] = [
  'package.json',
  'pyproject.toml',
  'setup.py',
  'requirements.txt',
  'Pipfile',
  'go.mod',
  'Cargo.toml',
  'pom.xml',
  'build.gradle',
  '.git',
];

/** Directories skipped by default: dependencies and caches, not the code of the project. */
export const DEFAULT_EXCLUDED_DIRECTORIES: readonly string[] = [
  '.git',
  'node_modules',
  '.venv',
  'venv',
  '__pycache__',
  'site-packages',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
  '.next',
  '.cache',
];

/** An LLM provider's API endpoint, for matching open connections and log lines. */
export interface ProviderEndpoint {
  provider: string;
  hosts: string[];
  /** IPs or CIDRs: what works on a closed network where names do not resolve. */
  addresses: string[];
  /** Remote ports that count; empty means any. */
  ports: number[];
}

export const DEFAULT_PROVIDER_ENDPOINTS: readonly ProviderEndpoint[] = [
  { provider: 'openai', hosts: ['api.openai.com'], addresses: [], ports: [443] },
  { provider: 'anthropic', hosts: ['api.anthropic.com'], addresses: [], ports: [443] },
  {
    provider: 'azure-openai',
    hosts: ['*.openai.azure.com', '*.cognitiveservices.azure.com'],
    addresses: [],
    ports: [443],
  },
  {
    provider: 'google',
    hosts: ['generativelanguage.googleapis.com', '*-aiplatform.googleapis.com', 'aiplatform.googleapis.com'],
    addresses: [],
    ports: [443],
  },
  { provider: 'mistral', hosts: ['api.mistral.ai'], addresses: [], ports: [443] },
  { provider: 'cohere', hosts: ['api.cohere.com', 'api.cohere.ai'], addresses: [], ports: [443] },
  {
    provider: 'bedrock',
    hosts: [
      'bedrock-runtime.us-east-1.amazonaws.com',
      'bedrock-runtime.us-west-2.amazonaws.com',
      'bedrock-runtime.eu-central-1.amazonaws.com',
      'bedrock-runtime.eu-west-1.amazonaws.com',
      'bedrock-runtime.*.amazonaws.com',
    ],
    addresses: [],
    ports: [443],
  },
  { provider: 'groq', hosts: ['api.groq.com'], addresses: [], ports: [443] },
  { provider: 'together', hosts: ['api.together.xyz'], addresses: [], ports: [443] },
  { provider: 'openrouter', hosts: ['openrouter.ai'], addresses: [], ports: [443] },
  { provider: 'xai', hosts: ['api.x.ai'], addresses: [], ports: [443] },
  { provider: 'deepseek', hosts: ['api.deepseek.com'], addresses: [], ports: [443] },
  { provider: 'perplexity', hosts: ['api.perplexity.ai'], addresses: [], ports: [443] },
];
