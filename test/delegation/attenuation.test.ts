import { describe, expect, it } from 'vitest';
import { actOfActors, actorsOfAct, agentDepth, chainOf } from '../../src/delegation/act-chain.js';
import { attenuateGrant } from '../../src/delegation/attenuate.js';
import {
  narrowToolScope,
  parseToolScope,
  patternCovers,
  toolInScope,
} from '../../src/delegation/tool-scope.js';
import { codeOfSync } from '../support/errors.js';

describe('tool scopes', () => {
  it('covers by exact name or trailing-* prefix only', () => {
    expect(patternCovers('crm.*', 'crm.get_order')).toBe(true);
    expect(patternCovers('crm.*', 'crm.get_*')).toBe(true);
    expect(patternCovers('crm.get_*', 'crm.*')).toBe(false);
    expect(patternCovers('crm.get_order', 'crm.get_*')).toBe(false);
    expect(patternCovers('*', 'anything.at_all')).toBe(true);
    expect(toolInScope(undefined, 'x.y')).toBe(true);
    expect(toolInScope(['files.read_file'], 'files.write_file')).toBe(false);
  });

  it('parses a scope and refuses what is not a tool pattern', () => {
    expect(parseToolScope('crm.*  files.read_file crm.*')).toEqual(['crm.*', 'files.read_file']);
    expect(codeOfSync(() => parseToolScope('crm.*.x*y*'))).toBe('invalid_scope');
    expect(codeOfSync(() => parseToolScope('a"b'))).toBe('invalid_scope');
    expect(codeOfSync(() => parseToolScope('   '))).toBe('invalid_scope');
  });

  it('narrows, inherits, and refuses to widen', () => {
    expect(narrowToolScope(['crm.*'], ['crm.get_order'])).toEqual(['crm.get_order']);
    expect(narrowToolScope(['crm.*'], undefined)).toEqual(['crm.*']);
    expect(narrowToolScope(undefined, ['x.*'])).toEqual(['x.*']);
    expect(codeOfSync(() => narrowToolScope(['crm.get_*'], ['crm.*']))).toBe('invalid_scope');
  });
});

describe('grants', () => {
  it('the child never outlives the parent and keeps every task key the parent fixes', () => {
    const parent = { tools: ['crm.*'], task: { customer: 'A' }, exp: 1000 };
    expect(attenuateGrant(parent, {}, { exp: 5000 })).toEqual({
      tools: ['crm.*'],
      task: { customer: 'A' },
      exp: 1000,
    });
    expect(attenuateGrant(parent, { task: { customer: 'A', order: 'o-1' } }, { exp: 500 })).toMatchObject({
      task: { customer: 'A', order: 'o-1' },
      exp: 500,
    });
    expect(codeOfSync(() => attenuateGrant(parent, { task: { customer: 'B' } }, { exp: 500 }))).toBe(
      'invalid_scope',
    );
    expect(codeOfSync(() => attenuateGrant(parent, { task: { order: 'o-1' } }, { exp: 500 }))).toBe(
      'invalid_scope',
    );
  });
});

describe('act chains (RFC 8693 section 4.1)', () => {
  it('nests the current actor outermost and reads it back earliest first', () => {
    const act = actOfActors(['agt_planner', 'agt_researcher']);
    expect(act).toEqual({ sub: 'agt_researcher', act: { sub: 'agt_planner' } });
    expect(actorsOfAct(act)).toEqual(['agt_planner', 'agt_researcher']);
    expect(codeOfSync(() => actorsOfAct({ act: { sub: 'x' } }))).toBe('invalid_token');
    expect(codeOfSync(() => actorsOfAct('agt_x'))).toBe('invalid_token');
  });

  it('is the chain policies see, and its depth counts agents', () => {
    const chain = chainOf({ sub: 'usr_alice', kind: 'user' }, ['agt_a', 'agt_b']);
    expect(chain.map((link) => link.sub)).toEqual(['usr_alice', 'agt_a', 'agt_b']);
    expect(agentDepth(chain)).toBe(2);
    expect(chainOf({ sub: 'agt_a', kind: 'agent' }, [])).toEqual([]);
  });
});
