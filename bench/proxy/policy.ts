/**
 * The policy bundle Gatehouse decides the benchmark's calls with: 36 rules for a small fleet (a coding
 * agent, a support agent, a finance agent and the benchmark's own agent). These are candidates for
 * `bench.echo`, so they are evaluated on every call:
 *
 * - `bench-echo` (allow): principal by name, team and registry label, a JSON Schema argument matcher and a
 *   CEL condition;
 * - `no-egress-after-secret` (deny, taint): echo is labelled `egress`, the session never reads a secret;
 * - `echo-after-sudo` (deny + terminate, trajectory): no `shell.sudo` in the last 20 steps;
 * - `bench-echo-daily-cap` (deny, limit): far above what a run makes;
 * - `unreviewed-agents-no-writes` (deny): the agent was reviewed and approved.
 *
 * Echo is also labelled `reads:internal`, so every allowed call adds taint and the session state is written
 * back with its history (the last 128 calls) and counters, as for a real tool.
 */
export const BENCH_AGENT = 'bench-agent';
export const BENCH_TEAM = 'bench';

export const BENCH_POLICY = `version: 1
description: benchmark bundle (bench/proxy)
tools:
  - match: [fs.read_file, fs.list_directory, git.diff, git.log, bench.echo]
    labels: [reads:internal]
  - match: [fs.write_file, fs.edit_file, git.commit]
    labels: [writes]
  - match: [vault.read_secret, env.get]
    labels: [reads:secret]
  - match: [web.fetch, web.search, email.read_inbox, github.get_issue, github.list_issue_comments]
    labels: [reads:untrusted]
  - match: [http.post, http.put, email.send, slack.post_message, bench.echo]
    labels: [egress]
  - match: [shell.run, shell.sudo]
    labels: [exec]
  - match: [github.create_pull_request, github.create_issue, github.add_comment]
    labels: [writes, egress]
  - match: [github.merge_pull_request, "*.delete_*"]
    labels: [writes, destructive]
  - match: [crm.get_order, crm.get_customer, crm.search_orders]
    labels: [reads:pii]
  - match: [crm.refund_order, stripe.create_payment, stripe.create_payout]
    labels: [payments, writes]
labels:
  sensitive-reads:
    description: anything a session should not send out afterwards
    includes: [reads:secret, reads:pii]
rules:
  # --- the benchmark agent ---------------------------------------------------------------------------------
  - id: bench-echo
    principal: { agents: [${BENCH_AGENT}], teams: [${BENCH_TEAM}], labels: { env: [bench] } }
    tool: bench.echo
    args:
      text: { schema: { type: string, maxLength: 4096 } }
    condition: 'has(call.args.text) && call.args.text != "forbidden"'
    effect: allow
  - id: echo-after-sudo
    description: a sudo attempt ends the task for any tool that talks to the outside
    tool: bench.echo
    after: { tool: shell.sudo, within: { steps: 20 } }
    effect: deny
    terminate: true
  - id: bench-echo-daily-cap
    tool: bench.echo
    limit: { count: 100000000, per: day, of: { tool: bench.echo } }
    effect: deny

  # --- guardrails for every agent -------------------------------------------------------------------------
  - id: no-egress-after-secret
    description: once a session has read a secret, nothing leaves
    tool: { labels: [egress] }
    taint: { secrecy: [secret] }
    effect: deny
    reason: egress after reading a secret
  - id: no-pii-to-chat
    tool: slack.post_message
    taint: { secrecy: [pii] }
    effect: deny
  - id: read-then-post
    description: a file read followed soon by an HTTP post looks like exfiltration
    tool: [http.post, http.put]
    after: { tool: fs.read_file, within: { steps: 5 } }
    effect: flag
  - id: no-sudo
    tool: shell.sudo
    effect: deny
    reason: agents never escalate privileges
  - id: shell-after-sudo
    tool: shell.run
    after: { tool: shell.sudo, outcome: any }
    effect: deny
    terminate: true
  - id: untrusted-external-email
    tool: email.send
    taint: { integrity: [untrusted] }
    args:
      to: { email_domain_not_in: [acme.example] }
    effect: approve
  - id: unreviewed-agents-no-writes
    tool: { labels: [writes, payments, egress] }
    principal: { review: [unreviewed, rejected] }
    effect: deny
  - id: no-destructive-without-approval
    tool: { labels: [destructive] }
    effect: approve
    approvers: 2

  # --- coding agent ----------------------------------------------------------------------------------------
  - id: coder-workspace-files
    principal: { agents: [coder] }
    tool: [fs.read_file, fs.list_directory, fs.write_file, fs.edit_file]
    args:
      path: { path_under: [/workspace] }
    effect: allow
  - id: coder-git
    principal: { agents: [coder] }
    tool: [git.diff, git.log, git.commit]
    effect: allow
  - id: coder-github
    principal: { agents: [coder] }
    tool: [github.get_issue, github.list_issue_comments, github.create_pull_request, github.add_comment]
    effect: allow
  - id: coder-web
    principal: { agents: [coder] }
    tool: [web.search, web.fetch]
    args:
      url: { host_not_in: ["169.254.169.254", localhost, "*.internal.acme.example"] }
    effect: allow
  - id: coder-http-to-known-apis
    principal: { agents: [coder] }
    tool: http.post
    args:
      url: { host_in: [api.github.com, "*.pypi.org", registry.npmjs.org] }
    effect: allow
  - id: coder-shell
    principal: { agents: [coder] }
    tool: shell.run
    condition: '!call.args.command.contains("curl") && !call.args.command.contains("wget")'
    effect: allow
  - id: coder-no-pr-after-untrusted-comment
    principal: { agents: [coder] }
    tool: github.create_pull_request
    after: { tool: github.list_issue_comments, within: { steps: 10 } }
    effect: approve
  - id: coder-internal-ips-only
    principal: { agents: [coder] }
    tool: http.put
    args:
      host: { cidr_in: [10.0.0.0/8] }
    effect: allow

  # --- support agent ---------------------------------------------------------------------------------------
  - id: support-reads-own-customer
    principal: { agents: [support-bot] }
    tool: [crm.get_order, crm.get_customer, crm.search_orders]
    condition: >-
      has(session.scope.customer) && has(call.args.customer_id)
      && call.args.customer_id == session.scope.customer
    effect: allow
  - id: support-reads-inbox
    principal: { agents: [support-bot] }
    tool: email.read_inbox
    effect: allow
  - id: support-email-customer
    principal: { agents: [support-bot] }
    tool: email.send
    effect: allow
  - id: support-small-refunds
    principal: { agents: [support-bot] }
    tool: crm.refund_order
    args:
      amount: { min: 0, max: 100 }
    effect: allow
  - id: support-large-refunds
    principal: { agents: [support-bot] }
    tool: crm.refund_order
    args:
      amount: { exclusive_min: 100, max: 2000 }
    effect: approve
  - id: support-no-huge-refunds
    tool: crm.refund_order
    args:
      amount: { exclusive_min: 2000 }
    effect: deny
  - id: support-chat
    principal: { agents: [support-bot] }
    tool: slack.post_message
    args:
      channel: { one_of: ["#support", "#escalations"] }
    effect: allow
  - id: support-refunds-per-session
    tool: crm.refund_order
    limit: { count: 5, per: session, of: { tool: crm.refund_order } }
    effect: deny

  # --- finance agent ---------------------------------------------------------------------------------------
  - id: finance-reads
    principal: { teams: [finance] }
    tool: [crm.get_order, crm.search_orders, crm.get_customer]
    effect: allow
  - id: finance-payments-need-approval
    principal: { agents: [finance-bot] }
    tool: stripe.create_payment
    args:
      currency: { one_of: [USD, EUR] }
      amount: { min: 1, max: 50000 }
    effect: approve
    approvers: 2
  - id: finance-payments-per-session
    tool: { labels: [payments] }
    limit: { count: 3, per: session, of: { label: payments } }
    effect: deny
  - id: finance-payments-per-day
    tool: stripe.create_payment
    limit: { count: 20, per: day, of: { tool: stripe.create_payment } }
    effect: deny
  - id: finance-no-payouts
    tool: stripe.create_payout
    effect: deny
  - id: finance-no-payments-after-untrusted
    tool: { labels: [payments] }
    taint: { integrity: [untrusted] }
    effect: deny
  - id: finance-secrets
    principal: { teams: [finance] }
    tool: vault.read_secret
    args:
      name: { schema: { type: string, pattern: "^finance/" } }
    effect: allow
  - id: finance-mail-internal
    principal: { teams: [finance] }
    tool: email.send
    args:
      to: { email_domain_in: [acme.example] }
    effect: allow
  - id: finance-no-email-after-pii
    principal: { teams: [finance] }
    tool: email.send
    not_after: { label: reads:pii }
    effect: flag
`;

/** How many rules the bundle has (printed with the results). */
export const BENCH_POLICY_RULES = BENCH_POLICY.split('\n').filter((line) =>
  line.startsWith('  - id: '),
).length;
