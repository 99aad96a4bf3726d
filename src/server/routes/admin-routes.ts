import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GatehouseError } from '../../errors/index.js';
import { scanAgentTools } from '../../gateway/pinning/index.js';
import { createAdminToken, revokeAdminToken } from '../../identity/admin-tokens.js';
import { ADMIN_ROLES } from '../../identity/types.js';
import {
  AGENT_STATES,
  activateUser,
  addAgentKey,
  addTeamMember,
  changeAgentState,
  createTeam,
  createUser,
  deactivateUser,
  diffManifestVersions,
  EmailSchema,
  LabelsSchema,
  ManifestSchema,
  NameSchema,
  pushManifest,
  REVIEW_STATUSES,
  registerAgent,
  removeTeamMember,
  requireAgent,
  requireTeam,
  requireUser,
  reviewAgent,
  revokeAgentKey,
  sweepLifecycle,
  transferAgent,
} from '../../registry/index.js';
import { principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';
import {
  adminTokenView,
  agentKeyView,
  agentView,
  inventorySummary,
  loadDirectory,
  manifestVersionView,
  signingKeyView,
  teamView,
  userView,
} from '../views.js';
import { registerApprovalRoutes } from './approval-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerDiscoveryRoutes } from './discovery-routes.js';
import { registerPolicyRoutes } from './policy-routes.js';
import { registerSecretRoutes } from './secret-routes.js';
import { registerSessionRoutes } from './session-routes.js';
import { registerToolPinRoutes } from './tool-pin-routes.js';
import { registerUsageRoutes } from './usage-routes.js';

const security = [{ adminToken: [] }];
const read = requirePermission('read');
const write = requirePermission('write');
const TeamParams = z.strictObject({ team: z.string().min(1).max(200) });
const UserParams = z.strictObject({ user: z.string().min(1).max(254) });
const AgentParams = z.strictObject({ agent: z.string().min(1).max(200) });
// Bodiless POSTs arrive as null.
const ReasonBody = z.strictObject({ reason: z.string().max(1000).optional() }).nullish();
const PublicKeyInput = z.union([z.string().min(1).max(8192), z.record(z.string(), z.unknown())]);
const BooleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

/** The admin REST API over the registry, identity and lifecycle services. Every route checks a role. */
export function registerAdminRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  // Teams
  api.get('/teams', { preHandler: read, schema: { tags: ['teams'], security } }, async () => ({
    teams: (await gatehouse.store.teams.list()).map(teamView),
  }));
  api.post(
    '/teams',
    {
      preHandler: write,
      schema: {
        tags: ['teams'],
        security,
        body: z.strictObject({ name: NameSchema, description: z.string().max(1000).optional() }),
      },
    },
    async (request, reply) => {
      const team = await createTeam(gatehouse, principalOf(request).actor, request.body);
      return reply.status(201).send({ team: teamView(team) });
    },
  );
  api.get(
    '/teams/:team',
    { preHandler: read, schema: { tags: ['teams'], security, params: TeamParams } },
    async (request) => {
      const team = await requireTeam(gatehouse.store, request.params.team);
      const members = await gatehouse.store.teams.listMembers(team.id);
      const agents = await gatehouse.store.agents.list({ teamId: team.id });
      return {
        team: teamView(team),
        members: members.map(userView),
        agentIds: agents.map((agent) => agent.id),
      };
    },
  );
  api.post(
    '/teams/:team/members',
    {
      preHandler: write,
      schema: {
        tags: ['teams'],
        security,
        params: TeamParams,
        body: z.strictObject({ user: z.string().min(1).max(254) }),
      },
    },
    async (request) => {
      const { team, user } = await addTeamMember(
        gatehouse,
        principalOf(request).actor,
        request.params.team,
        request.body.user,
      );
      return { team: teamView(team), user: userView(user) };
    },
  );
  api.delete(
    '/teams/:team/members/:user',
    {
      preHandler: write,
      schema: {
        tags: ['teams'],
        security,
        params: z.strictObject({ team: z.string().min(1), user: z.string().min(1) }),
      },
    },
    async (request) => {
      const { team, user } = await removeTeamMember(
        gatehouse,
        principalOf(request).actor,
        request.params.team,
        request.params.user,
      );
      return { team: teamView(team), user: userView(user) };
    },
  );

  // Users (people)
  api.get(
    '/users',
    {
      preHandler: read,
      schema: { tags: ['users'], security, querystring: z.strictObject({ active: BooleanQuery.optional() }) },
    },
    async (request) => ({
      users: (await gatehouse.store.users.list({ active: request.query.active })).map(userView),
    }),
  );
  api.post(
    '/users',
    {
      preHandler: write,
      schema: {
        tags: ['users'],
        security,
        body: z.strictObject({
          email: EmailSchema,
          displayName: z.string().max(200).optional(),
          teams: z.array(z.string().min(1)).max(50).optional(),
        }),
      },
    },
    async (request, reply) => {
      const user = await createUser(gatehouse, principalOf(request).actor, request.body);
      return reply.status(201).send({ user: userView(user) });
    },
  );
  api.get(
    '/users/:user',
    { preHandler: read, schema: { tags: ['users'], security, params: UserParams } },
    async (request) => {
      const user = await requireUser(gatehouse.store, request.params.user);
      const teams = await gatehouse.store.teams.listTeamsOfUser(user.id);
      const sponsored = await gatehouse.store.agents.list({ sponsorId: user.id });
      return {
        user: userView(user),
        teams: teams.map(teamView),
        sponsoredAgentIds: sponsored.map((agent) => agent.id),
      };
    },
  );
  api.post(
    '/users/:user/deactivate',
    { preHandler: write, schema: { tags: ['users'], security, params: UserParams } },
    async (request) => ({
      user: userView(await deactivateUser(gatehouse, principalOf(request).actor, request.params.user)),
    }),
  );
  api.post(
    '/users/:user/activate',
    { preHandler: write, schema: { tags: ['users'], security, params: UserParams } },
    async (request) => ({
      user: userView(await activateUser(gatehouse, principalOf(request).actor, request.params.user)),
    }),
  );

  // Agents
  api.get(
    '/agents',
    {
      preHandler: read,
      schema: {
        tags: ['agents'],
        security,
        querystring: z.strictObject({
          team: z.string().min(1).optional(),
          state: z.enum(AGENT_STATES).optional(),
          reviewStatus: z.enum(REVIEW_STATUSES).optional(),
          needsSponsor: BooleanQuery.optional(),
          orphaned: BooleanQuery.optional(),
        }),
      },
    },
    async (request) => {
      const query = request.query;
      const teamId =
        query.team === undefined ? undefined : (await requireTeam(gatehouse.store, query.team)).id;
      const all = await gatehouse.store.agents.list({ teamId });
      const agents = await gatehouse.store.agents.list({
        teamId,
        state: query.state,
        reviewStatus: query.reviewStatus,
        needsSponsor: query.needsSponsor,
        orphaned: query.orphaned,
      });
      const directory = await loadDirectory(gatehouse.store);
      return { summary: inventorySummary(all), agents: agents.map((agent) => agentView(agent, directory)) };
    },
  );
  api.post(
    '/agents',
    {
      preHandler: write,
      schema: {
        tags: ['agents'],
        security,
        body: z.strictObject({
          name: NameSchema,
          team: z.string().min(1),
          sponsor: z.string().min(1),
          description: z.string().max(1000).optional(),
          labels: LabelsSchema.optional(),
          publicKey: PublicKeyInput.optional(),
          manifest: ManifestSchema.optional(),
        }),
      },
    },
    async (request, reply) => {
      const registered = await registerAgent(gatehouse, principalOf(request).actor, request.body);
      const directory = await loadDirectory(gatehouse.store);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({
        agent: agentView(registered.agent, directory),
        key: agentKeyView(registered.key),
        // Shown once: Gatehouse keeps only the public half.
        credentials: registered.privateKey
          ? {
              kid: registered.key.kid,
              privateKeyPem: registered.privateKey.pem,
              privateJwk: registered.privateKey.jwk,
            }
          : null,
        tokenEndpoint: gatehouse.tokenEndpoint,
      });
    },
  );
  api.get(
    '/agents/:agent',
    { preHandler: read, schema: { tags: ['agents'], security, params: AgentParams } },
    async (request) => {
      const agent = await requireAgent(gatehouse.store, request.params.agent);
      const [keys, directory] = await Promise.all([
        gatehouse.store.agentKeys.listByAgent(agent.id, { includeRevoked: true }),
        loadDirectory(gatehouse.store),
      ]);
      return { agent: agentView(agent, directory), keys: keys.map(agentKeyView) };
    },
  );
  for (const transition of ['suspend', 'resume', 'retire'] as const) {
    api.post(
      `/agents/:agent/${transition}`,
      { preHandler: write, schema: { tags: ['agents'], security, params: AgentParams, body: ReasonBody } },
      async (request) => {
        const agent = await changeAgentState(
          gatehouse,
          principalOf(request).actor,
          request.params.agent,
          transition,
          request.body?.reason,
        );
        return { agent: agentView(agent, await loadDirectory(gatehouse.store)) };
      },
    );
  }
  api.post(
    '/agents/:agent/transfer',
    {
      preHandler: write,
      schema: {
        tags: ['agents'],
        security,
        params: AgentParams,
        body: z.strictObject({
          team: z.string().min(1),
          sponsor: z.string().min(1).optional(),
          reason: z.string().max(1000).optional(),
        }),
      },
    },
    async (request) => {
      const agent = await transferAgent(
        gatehouse,
        principalOf(request).actor,
        request.params.agent,
        request.body,
      );
      return { agent: agentView(agent, await loadDirectory(gatehouse.store)) };
    },
  );
  api.post(
    '/agents/:agent/review',
    {
      preHandler: requirePermission('review'),
      schema: {
        tags: ['agents'],
        security,
        params: AgentParams,
        body: z.strictObject({
          decision: z.enum(['approve', 'reject']),
          note: z.string().max(2000).optional(),
          reviewer: z.string().min(1).max(254).optional(),
        }),
      },
    },
    async (request) => {
      const agent = await reviewAgent(gatehouse, principalOf(request), request.params.agent, request.body);
      // The reviewer sees what the scanner found in the descriptions of the tools the agent may use.
      const toolScan = await scanAgentTools(gatehouse, agent);
      return { agent: agentView(agent, await loadDirectory(gatehouse.store)), toolScan };
    },
  );

  // Manifests
  api.get(
    '/agents/:agent/manifests',
    { preHandler: read, schema: { tags: ['manifests'], security, params: AgentParams } },
    async (request) => {
      const agent = await requireAgent(gatehouse.store, request.params.agent);
      return { manifests: (await gatehouse.store.manifests.list(agent.id)).map(manifestVersionView) };
    },
  );
  api.post(
    '/agents/:agent/manifests',
    {
      preHandler: write,
      schema: { tags: ['manifests'], security, params: AgentParams, body: ManifestSchema },
    },
    async (request, reply) => {
      const pushed = await pushManifest(
        gatehouse,
        principalOf(request).actor,
        request.params.agent,
        request.body,
      );
      return reply.status(pushed.created ? 201 : 200).send({
        created: pushed.created,
        manifest: manifestVersionView(pushed.version),
        diff: pushed.diff,
        agent: agentView(pushed.agent, await loadDirectory(gatehouse.store)),
      });
    },
  );
  api.get(
    '/agents/:agent/manifests/:version',
    {
      preHandler: read,
      schema: {
        tags: ['manifests'],
        security,
        params: z.strictObject({ agent: z.string().min(1), version: z.coerce.number().int().min(1) }),
      },
    },
    async (request) => {
      const agent = await requireAgent(gatehouse.store, request.params.agent);
      const version = await gatehouse.store.manifests.get(agent.id, request.params.version);
      if (!version) {
        throw new GatehouseError(
          'manifest_version_not_found',
          `agent \`${agent.name}\` has no manifest version ${request.params.version}`,
        );
      }
      return { manifest: manifestVersionView(version) };
    },
  );
  api.get(
    '/agents/:agent/manifest-diff',
    {
      preHandler: read,
      schema: {
        tags: ['manifests'],
        security,
        params: AgentParams,
        querystring: z.strictObject({
          from: z.coerce.number().int().min(1).optional(),
          to: z.coerce.number().int().min(1).optional(),
        }),
      },
    },
    async (request) => diffManifestVersions(gatehouse, request.params.agent, request.query),
  );

  // Agent credentials
  api.get(
    '/agents/:agent/keys',
    { preHandler: read, schema: { tags: ['agents'], security, params: AgentParams } },
    async (request) => {
      const agent = await requireAgent(gatehouse.store, request.params.agent);
      return {
        keys: (await gatehouse.store.agentKeys.listByAgent(agent.id, { includeRevoked: true })).map(
          agentKeyView,
        ),
      };
    },
  );
  api.post(
    '/agents/:agent/keys',
    {
      preHandler: write,
      schema: {
        tags: ['agents'],
        security,
        params: AgentParams,
        body: z.strictObject({ publicKey: PublicKeyInput }),
      },
    },
    async (request, reply) => {
      const key = await addAgentKey(
        gatehouse,
        principalOf(request).actor,
        request.params.agent,
        request.body.publicKey,
      );
      return reply.status(201).send({ key: agentKeyView(key) });
    },
  );
  api.delete(
    '/agents/:agent/keys/:kid',
    {
      preHandler: write,
      schema: {
        tags: ['agents'],
        security,
        params: z.strictObject({ agent: z.string().min(1), kid: z.string().min(1).max(200) }),
      },
    },
    async (request) => {
      await revokeAgentKey(gatehouse, principalOf(request).actor, request.params.agent, request.params.kid);
      return { revoked: request.params.kid };
    },
  );

  // Gatehouse's signing keys
  api.get('/keys', { preHandler: read, schema: { tags: ['keys'], security } }, async () => ({
    keys: (await gatehouse.store.signingKeys.list()).map(signingKeyView),
  }));
  api.post('/keys/rotate', { preHandler: write, schema: { tags: ['keys'], security } }, async (request) => {
    const rotated = await gatehouse.keyring.rotate(principalOf(request).actor);
    return { kid: rotated.kid, retiredKid: rotated.retiredKid };
  });

  // Admin tokens
  api.get('/admin-tokens', { preHandler: write, schema: { tags: ['admin-tokens'], security } }, async () => ({
    tokens: (await gatehouse.store.adminTokens.list()).map(adminTokenView),
  }));
  api.post(
    '/admin-tokens',
    {
      preHandler: write,
      schema: {
        tags: ['admin-tokens'],
        security,
        body: z.strictObject({
          role: z.enum(ADMIN_ROLES),
          name: z.string().min(1).max(200).optional(),
          user: z.string().min(1).max(254).optional(),
        }),
      },
    },
    async (request, reply) => {
      const created = await createAdminToken(gatehouse, principalOf(request), {
        role: request.body.role,
        name: request.body.name,
        userEmail: request.body.user,
      });
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ token: adminTokenView(created.token), secret: created.secret });
    },
  );
  api.delete(
    '/admin-tokens/:id',
    {
      preHandler: write,
      schema: {
        tags: ['admin-tokens'],
        security,
        params: z.strictObject({ id: z.string().min(1).max(100) }),
      },
    },
    async (request) => {
      await revokeAdminToken(gatehouse, principalOf(request), request.params.id);
      return { revoked: request.params.id };
    },
  );

  // Lifecycle housekeeping (the server also runs it on a timer)
  api.post(
    '/lifecycle/sweep',
    { preHandler: write, schema: { tags: ['lifecycle'], security } },
    async (request) =>
      sweepLifecycle(gatehouse, {
        orphanGracePeriodMs: gatehouse.config.lifecycle.orphanGracePeriod,
        actor: principalOf(request).actor,
      }),
  );

  registerApprovalRoutes(api, gatehouse);
  registerAuditRoutes(api, gatehouse);
  registerDiscoveryRoutes(api, gatehouse);
  registerPolicyRoutes(api, gatehouse);
  registerSecretRoutes(api, gatehouse);
  registerSessionRoutes(api, gatehouse);
  registerUsageRoutes(api, gatehouse);
  registerToolPinRoutes(api, gatehouse);
}
