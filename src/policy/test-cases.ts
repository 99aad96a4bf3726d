import { z } from 'zod';
import type { CompiledBundle } from './compiled-bundle.js';
import { replaySession } from './replay.js';
import { type Decision, EFFECTS, type Effect } from './types.js';

/**
 * Recorded sessions as policy tests: JSON Lines where a line either opens a session (who runs it, under which
 * scope) or is a call in a session, optionally with the decision it must get. Parsing and running are pure;
 * the CLI reads the files.
 */

const START = Date.UTC(2026, 0, 1);
const STEP_MS = 1000;

const PrincipalSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().optional(),
  team: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  review: z.string().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

const SessionLineSchema = z.strictObject({
  session: z.string().min(1),
  principal: PrincipalSchema,
  scope: z.record(z.string(), z.unknown()).optional(),
  user: z.strictObject({ id: z.string(), email: z.string().optional() }).optional(),
  chain: z.array(z.strictObject({ sub: z.string(), kind: z.enum(['user', 'agent']) })).optional(),
  description: z.string().optional(),
});

const ExpectSchema = z.union([
  z.enum(EFFECTS),
  z.strictObject({
    effect: z.enum(EFFECTS),
    rules: z.array(z.string()).optional(),
    code: z.string().optional(),
  }),
]);

const CallLineSchema = z.strictObject({
  session: z.string().min(1),
  tool: z.string().min(1),
  args: z.record(z.string(), z.unknown()).default({}),
  /** ISO time or epoch ms; defaults to one second after the previous call. */
  at: z.union([z.iso.datetime({ offset: true }), z.number().int()]).optional(),
  approved: z.boolean().optional(),
  expect: ExpectSchema.optional(),
  note: z.string().optional(),
});

export interface CaseExpectation {
  effect: Effect;
  rules?: string[];
  code?: string;
}

export interface TestCall {
  line: number;
  tool: string;
  args: Record<string, unknown>;
  at: number;
  approved?: boolean;
  expect?: CaseExpectation;
  note?: string;
}

export interface TestSession {
  id: string;
  file: string;
  line: number;
  header: z.output<typeof SessionLineSchema>;
  calls: TestCall[];
}

export interface CaseProblem {
  file: string;
  line: number;
  message: string;
}

export function parseTestCases(
  file: string,
  text: string,
): { sessions: TestSession[]; problems: CaseProblem[] } {
  const sessions = new Map<string, TestSession>();
  const problems: CaseProblem[] = [];
  const lastAt = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('//') || trimmed.startsWith('#')) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      problems.push({ file, line, message: `not JSON: ${(error as Error).message}` });
      return;
    }
    const isHeader = typeof value === 'object' && value !== null && 'principal' in value;
    if (isHeader) {
      const parsed = SessionLineSchema.safeParse(value);
      if (!parsed.success) {
        problems.push({ file, line, message: issuesText(parsed.error) });
        return;
      }
      if (sessions.has(parsed.data.session)) {
        problems.push({ file, line, message: `session \`${parsed.data.session}\` is opened twice` });
        return;
      }
      sessions.set(parsed.data.session, {
        id: parsed.data.session,
        file,
        line,
        header: parsed.data,
        calls: [],
      });
      return;
    }
    const parsed = CallLineSchema.safeParse(value);
    if (!parsed.success) {
      problems.push({ file, line, message: issuesText(parsed.error) });
      return;
    }
    const session = sessions.get(parsed.data.session);
    if (!session) {
      problems.push({ file, line, message: `call before its session \`${parsed.data.session}\` was opened` });
      return;
    }
    const previous = lastAt.get(session.id) ?? START - STEP_MS;
    const at =
      parsed.data.at === undefined
        ? previous + STEP_MS
        : typeof parsed.data.at === 'number'
          ? parsed.data.at
          : Date.parse(parsed.data.at);
    lastAt.set(session.id, at);
    const { expect } = parsed.data;
    session.calls.push({
      line,
      tool: parsed.data.tool,
      args: parsed.data.args,
      at,
      ...(parsed.data.approved === undefined ? {} : { approved: parsed.data.approved }),
      ...(expect === undefined ? {} : { expect: typeof expect === 'string' ? { effect: expect } : expect }),
      ...(parsed.data.note === undefined ? {} : { note: parsed.data.note }),
    });
  });
  return { sessions: [...sessions.values()], problems };
}

export interface CaseResult {
  session: string;
  file: string;
  line: number;
  tool: string;
  decision: Decision;
  expect?: CaseExpectation;
  /** Undefined when the call had no expectation. */
  passed?: boolean;
  mismatch?: string;
}

export interface TestRun {
  results: CaseResult[];
  passed: number;
  failed: number;
  /** Calls replayed without an expectation (they still shape the session). */
  unchecked: number;
}

export function runTestSessions(bundle: CompiledBundle, sessions: readonly TestSession[]): TestRun {
  const results: CaseResult[] = [];
  for (const session of sessions) {
    const { header } = session;
    const steps = replaySession(
      bundle,
      {
        principal: header.principal,
        scope: header.scope ?? {},
        ...(header.user ? { user: header.user } : {}),
        ...(header.chain ? { chain: header.chain } : {}),
        sessionId: session.id,
      },
      session.calls,
    );
    steps.forEach((step, index) => {
      const call = session.calls[index] as TestCall;
      const mismatch = call.expect && mismatchOf(call.expect, step.decision);
      results.push({
        session: session.id,
        file: session.file,
        line: call.line,
        tool: call.tool,
        decision: step.decision,
        ...(call.expect ? { expect: call.expect, passed: mismatch === undefined } : {}),
        ...(mismatch ? { mismatch } : {}),
      });
    });
  }
  const passed = results.filter((result) => result.passed === true).length;
  const failed = results.filter((result) => result.passed === false).length;
  return { results, passed, failed, unchecked: results.length - passed - failed };
}

function mismatchOf(expect: CaseExpectation, decision: Decision): string | undefined {
  const problems: string[] = [];
  if (expect.effect !== decision.effect) problems.push(`expected ${expect.effect}, got ${decision.effect}`);
  if (expect.code !== undefined && expect.code !== decision.code) {
    problems.push(`expected code ${expect.code}, got ${decision.code}`);
  }
  if (expect.rules !== undefined) {
    const want = [...expect.rules].sort().join(',');
    const got = [...decision.ruleIds].sort().join(',');
    if (want !== got) problems.push(`expected rules [${want}], got [${got}]`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

function issuesText(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    .join('; ');
}
