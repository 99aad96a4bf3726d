import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UpstreamConfig } from '../../config/index.js';
import type { SecretInfo } from '../../vault/index.js';
import { principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';

const security = [{ adminToken: [] }];
const read = requirePermission('read');
const write = requirePermission('write');

const NameParams = z.strictObject({ name: z.string().min(1).max(200) });
// The vault checks name, size and binding itself, so its messages (which never quote the value) are the ones seen.
const SecretBody = z.strictObject({
  value: z.string(),
  upstream: z.string().max(100).nullable().optional(),
  description: z.string().nullable().optional(),
});

/**
 * The vault: values go in (PUT, rotate) and never come out. Every response carries the secret's info only, and
 * the list says which configured upstreams reference each secret and which references do not resolve.
 */
export function registerSecretRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { vault } = gatehouse;
  const references = secretReferences(gatehouse.config.upstreams);
  const view = (info: SecretInfo) => ({
    name: info.name,
    upstream: info.upstream,
    description: info.description,
    version: info.version,
    createdAt: new Date(info.createdAt).toISOString(),
    updatedAt: new Date(info.updatedAt).toISOString(),
    updatedBy: info.updatedBy,
    usedBy: references.filter((ref) => ref.secret === info.name).map((ref) => ref.upstream),
  });

  api.get('/secrets', { preHandler: read, schema: { tags: ['secrets'], security } }, async () => {
    const secrets = await vault.list();
    const byName = new Map(secrets.map((secret) => [secret.name, secret]));
    const unresolved = references.flatMap((ref): UnresolvedReference[] => {
      const secret = byName.get(ref.secret);
      if (!secret) return [{ ...ref, code: 'secret_not_found' }];
      if (secret.upstream !== null && secret.upstream !== ref.upstream)
        return [{ ...ref, code: 'secret_upstream_mismatch', boundTo: secret.upstream }];
      return [];
    });
    return { secrets: secrets.map(view), unresolved };
  });

  api.get(
    '/secrets/:name',
    { preHandler: read, schema: { tags: ['secrets'], security, params: NameParams } },
    async (request) => ({ secret: view(await vault.info(request.params.name)) }),
  );

  api.put(
    '/secrets/:name',
    {
      preHandler: write,
      schema: { tags: ['secrets'], security, params: NameParams, body: SecretBody },
    },
    async (request, reply) => {
      const info = await vault.set(
        { name: request.params.name, ...request.body },
        principalOf(request).actor,
      );
      return reply.status(info.version === 1 ? 201 : 200).send({ secret: view(info) });
    },
  );

  api.post(
    '/secrets/:name/rotate',
    {
      preHandler: write,
      schema: { tags: ['secrets'], security, params: NameParams, body: SecretBody },
    },
    async (request) => ({
      secret: view(
        await vault.rotate({ name: request.params.name, ...request.body }, principalOf(request).actor),
      ),
    }),
  );

  api.delete(
    '/secrets/:name',
    { preHandler: write, schema: { tags: ['secrets'], security, params: NameParams } },
    async (request) => ({
      deleted: view(await vault.delete(request.params.name, principalOf(request).actor)),
    }),
  );
}

/** A configured reference the vault cannot satisfy as things stand. */
interface UnresolvedReference {
  upstream: string;
  secret: string;
  code: 'secret_not_found' | 'secret_upstream_mismatch';
  boundTo?: string;
}

/** Every (upstream, secret) pair the configuration asks Gatehouse to inject. */
function secretReferences(upstreams: readonly UpstreamConfig[]) {
  return upstreams.flatMap((upstream) => {
    const names =
      upstream.transport === 'stdio'
        ? Object.values(upstream.secretEnv)
        : Object.values(upstream.secretHeaders).map((header) => header.secret);
    return [...new Set(names)].map((secret) => ({ upstream: upstream.name, secret }));
  });
}
