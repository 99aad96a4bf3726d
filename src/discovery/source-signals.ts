import { DEPENDENCY_FILES, GO_SDKS, JS_SDKS, PYTHON_SDKS, type SdkSignature } from './signatures.js';

/** An SDK seen in a file: imported in code, or declared as a dependency. */
export interface SdkSighting {
  sdk: SdkSignature;
  line: number;
  how: 'import' | 'dependency';
}

type Language = 'js' | 'python' | 'go';

const LANGUAGE_BY_EXTENSION: Record<string, Language> = {
  js: 'js',
  mjs: 'js',
  cjs: 'js',
  jsx: 'js',
  ts: 'js',
  mts: 'js',
  cts: 'js',
  tsx: 'js',
  vue: 'js',
  svelte: 'js',
  py: 'python',
  pyi: 'python',
  ipynb: 'python',
  go: 'go',
};

export function languageOf(path: string): Language | undefined {
  const extension = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension ? LANGUAGE_BY_EXTENSION[extension] : undefined;
}

// `import x from 'm'`, `import 'm'`, `export … from 'm'`, `import('m')`, `require('m')`.
const JS_IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"`]((?:@[a-z0-9._-]+\/)?[a-z0-9._-]+)(?:\/[^'"`]*)?['"`]/gm;
const PY_IMPORT =
  /^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*))/gm;
const GO_IMPORT = /"((?:github\.com|google\.golang\.org|cloud\.google\.com)\/[^"\s]+)"/g;

/** SDK imports in source code, by the file's language. */
export function findSdkImports(path: string, text: string): SdkSighting[] {
  const language = languageOf(path);
  if (!language) return [];
  const sightings: SdkSighting[] = [];
  const add = (sdk: SdkSignature | undefined, index: number) => {
    if (sdk && !sightings.some((seen) => seen.sdk.name === sdk.name)) {
      sightings.push({ sdk, line: lineOf(text, index), how: 'import' });
    }
  };
  if (language === 'js') {
    for (const hit of text.matchAll(JS_IMPORT)) add(matchJs(hit[1] ?? '', hit[0]), hit.index);
  } else if (language === 'python') {
    for (const hit of text.matchAll(PY_IMPORT)) {
      const modules = hit[1] ? [hit[1]] : (hit[2] ?? '').split(',').map((name) => name.trim());
      for (const module of modules) add(matchPython(module), hit.index);
    }
  } else {
    for (const hit of text.matchAll(GO_IMPORT)) add(matchGo(hit[1] ?? ''), hit.index);
  }
  return sightings;
}

function matchJs(name: string, statement: string): SdkSignature | undefined {
  // The captured name stops at the package; a scoped prefix signature (`@langchain/`) matches any package in it.
  const full = /['"`]([^'"`]+)['"`]/.exec(statement)?.[1] ?? name;
  return JS_SDKS.find((sdk) =>
    sdk.prefix ? full.startsWith(sdk.module) : full === sdk.module || full.startsWith(`${sdk.module}/`),
  );
}

function matchPython(module: string): SdkSignature | undefined {
  return PYTHON_SDKS.find(
    (sdk) =>
      module === sdk.module ||
      module.startsWith(`${sdk.module}.`) ||
      (sdk.prefix === true && module.startsWith(`${sdk.module}_`)),
  );
}

function matchGo(path: string): SdkSignature | undefined {
  return GO_SDKS.find((sdk) => path === sdk.module || path.startsWith(`${sdk.module}/`));
}

/** SDKs declared in package.json, requirements/pyproject/Pipfile/setup files, or go.mod. */
export function findSdkDependencies(path: string, text: string): SdkSighting[] {
  const sightings: SdkSighting[] = [];
  const add = (sdk: SdkSignature | undefined, index: number) => {
    if (sdk && !sightings.some((seen) => seen.sdk.name === sdk.name)) {
      sightings.push({ sdk, line: lineOf(text, index), how: 'dependency' });
    }
  };
  if (DEPENDENCY_FILES.npm.test(path)) {
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return [];
    }
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
      const deps = manifest[field];
      if (!deps || typeof deps !== 'object') continue;
      for (const name of Object.keys(deps)) add(matchJs(name, `'${name}'`), text.indexOf(`"${name}"`));
    }
  } else if (DEPENDENCY_FILES.python.test(path)) {
    const requirement = /(?:^|["'\s,[])([A-Za-z][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:[<>=~!;"',]|$)/gm;
    for (const hit of text.matchAll(requirement)) {
      const distribution = (hit[1] ?? '').toLowerCase().replace(/-/g, '_');
      add(matchPythonDistribution(distribution), hit.index);
    }
  } else if (DEPENDENCY_FILES.go.test(path)) {
    for (const hit of text.matchAll(/^\s*(?:require\s+)?((?:github\.com|google\.golang\.org)\/\S+)\s+v/gm)) {
      add(matchGo(hit[1] ?? ''), hit.index);
    }
  }
  return sightings;
}

const PYTHON_DISTRIBUTIONS: Record<string, string> = {
  google_generativeai: 'google.generativeai',
  google_genai: 'google.genai',
  google_cloud_aiplatform: 'vertexai',
  llama_index: 'llama_index',
  pyautogen: 'autogen',
  autogen_agentchat: 'autogen',
  openai_agents: 'openai',
  claude_agent_sdk: 'claude_agent_sdk',
  semantic_kernel: 'semantic_kernel',
  haystack_ai: 'haystack',
  pydantic_ai: 'pydantic_ai',
};

function matchPythonDistribution(distribution: string): SdkSignature | undefined {
  const module = PYTHON_DISTRIBUTIONS[distribution] ?? distribution;
  return PYTHON_SDKS.find(
    (sdk) => module === sdk.module || (sdk.prefix === true && module.startsWith(`${sdk.module}_`)),
  );
}

function lineOf(text: string, index: number): number {
  if (index < 0) return 1;
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line += 1;
  return line;
}
