import { itemErrorDecision } from './to-authzen-decision.js';
import type { AuthzenDecision, AuthzenEvaluation, BatchItem, EvaluationsSemantic } from './types.js';

/**
 * Answers the items of a batch in request order under an evaluations semantic:
 * - `execute_all`: every item, one answer each;
 * - `deny_on_first_deny`: stops after the first `decision: false` (a failed item counts: it is a deny) and
 *   returns the answers up to and including it, like `&&`;
 * - `permit_on_first_permit`: stops after the first `decision: true`, like `||`.
 * Items are evaluated one after the other, so a short-circuit never evaluates what it skips.
 */
export async function runEvaluations(
  items: readonly BatchItem[],
  semantic: EvaluationsSemantic,
  evaluate: (evaluation: AuthzenEvaluation) => AuthzenDecision | Promise<AuthzenDecision>,
): Promise<AuthzenDecision[]> {
  const answers: AuthzenDecision[] = [];
  for (const item of items) {
    const answer = item.ok ? await evaluate(item.evaluation) : itemErrorDecision(item.error);
    answers.push(answer);
    if (semantic === 'deny_on_first_deny' && !answer.decision) break;
    if (semantic === 'permit_on_first_permit' && answer.decision) break;
  }
  return answers;
}
