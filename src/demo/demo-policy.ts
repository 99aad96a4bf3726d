/**
 * The policy bundle the demo runs with, in the policy language of docs/policy.md. `$WORKSPACE` is replaced by
 * the directory the filesystem upstream serves.
 */
export const DEMO_POLICY = `
version: 1
tools:
  - match: [files.read_text_file, files.read_file, files.list_directory, files.search_files]
    labels: [reads:internal]
  - match: everything.get-env
    labels: [reads:secret]
  - match: outbox.post_message
    labels: [egress]
rules:
  - id: read-workspace
    description: agents read the shared workspace, nothing outside it
    principal: { review: [approved] }
    tool: [files.read_text_file, files.list_directory, files.search_files]
    args: { path: { path_under: [$WORKSPACE] } }
    effect: allow

  - id: diagnostics
    principal: { review: [approved] }
    tool: [everything.echo, everything.get-env]
    effect: allow

  - id: outbound-messages
    principal: { review: [approved] }
    tool: outbox.post_message
    effect: allow

  - id: no-exfiltration
    description: a file read followed by an outbound message is exfiltration
    tool: { labels: [egress] }
    after: { label: reads:internal, outcome: allowed, within: { steps: 5 } }
    effect: deny
    reason: an outbound message right after reading workspace files

  - id: no-egress-after-secret
    tool: { labels: [egress] }
    taint: { secrecy: [secret] }
    effect: deny
    reason: nothing leaves a session that has read a secret
`;
