import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ERROR_CODES, type ErrorCode, GatehouseError, toGatehouseError } from '../errors/index.js';

/** RFC 9457 problem details, plus Gatehouse's stable `code` (and OAuth's `error` on OAuth endpoints). */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  instance?: string;
  error?: string;
  error_description?: string;
  [extension: string]: unknown;
}

/** RFC 6749 section 5.2 names, for clients that only read `error` on the token endpoint. */
const OAUTH_ERRORS: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'invalid_request',
  validation_failed: 'invalid_request',
  body_too_large: 'invalid_request',
  unsupported_media_type: 'invalid_request',
  unsupported_grant_type: 'unsupported_grant_type',
  invalid_client_assertion: 'invalid_client',
  assertion_replayed: 'invalid_client',
  agent_inactive: 'invalid_client',
  agent_not_found: 'invalid_client',
};

export function problemFor(error: GatehouseError, instance?: string, oauth = false): ProblemBody {
  const detail = error.expose ? error.message : ERROR_CODES[error.code].title.toLowerCase();
  const body: ProblemBody = {
    type: `https://gatehouse.dev/errors/${error.code}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    code: error.code,
    detail,
  };
  if (instance) body.instance = instance;
  if (error.expose && error.details) Object.assign(body, { details: error.details });
  if (oauth) {
    body.error = OAUTH_ERRORS[error.code] ?? (error.status >= 500 ? 'server_error' : 'invalid_request');
    body.error_description = detail;
  }
  return body;
}

/** Maps anything a route or Fastify throws to a GatehouseError. */
export function classifyRequestError(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      path: `${issue.instancePath || '/'}`,
      message: issue.message ?? 'invalid',
    }));
    const where = (error as FastifyError).validationContext ?? 'body';
    return new GatehouseError(
      'validation_failed',
      `invalid ${where}: ${issues.map((issue) => `\`${issue.path}\` ${issue.message}`).join('; ')}`,
      { details: { issues } },
    );
  }
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatehouseError('body_too_large', 'request body exceeds the configured limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatehouseError('unsupported_media_type', 'unsupported content type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatehouseError('invalid_request', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatehouseError('invalid_request', 'the request body is not valid JSON');
  }
  if (fastifyError.statusCode === 400 && typeof fastifyError.message === 'string') {
    // JSON syntax errors from the body parser carry a 400 and no Fastify code.
    return new GatehouseError('invalid_request', 'the request body is not valid JSON');
  }
  return toGatehouseError(error);
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: GatehouseError) {
  const oauth = request.url.startsWith('/oauth/');
  if (error.code === 'unauthorized' || error.code === 'invalid_token') {
    reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${error.code}"`);
  }
  return reply
    .status(error.status)
    .type('application/problem+json')
    .send(problemFor(error, request.url.split('?')[0], oauth));
}
