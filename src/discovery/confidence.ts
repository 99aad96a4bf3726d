import type { ConfidenceLevel, Finding } from './types.js';

/**
 * How sure we are that the findings describe an agent: independent kinds of evidence combine as
 * 1 - Π(1 - weight); repeats of the same kind (ten files importing `openai`) count once, at their strongest.
 */
export function confidenceOf(findings: readonly Finding[]): number {
  const strongest = new Map<string, number>();
  for (const finding of findings) {
    const aspect = `${finding.kind}:${finding.provider ?? finding.framework ?? ''}`;
    strongest.set(aspect, Math.max(strongest.get(aspect) ?? 0, finding.weight));
  }
  let doubt = 1;
  for (const weight of strongest.values()) doubt *= 1 - Math.min(1, Math.max(0, weight));
  return Math.round((1 - doubt) * 100) / 100;
}

export function levelOf(confidence: number): ConfidenceLevel {
  return confidence >= 0.8 ? 'high' : confidence >= 0.5 ? 'medium' : 'low';
}
