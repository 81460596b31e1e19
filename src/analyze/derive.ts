/**
 * What one event hands its caller: temporary credentials (STS), new long-term keys, users with
 * passwords, roles that trust someone outside. Pure: an event row in, the derivations out.
 */
import { parseJsonFirstWins } from '../core/json.js';
import type { EventRow } from './source.js';
import type { CreatedPrincipal, NodeKind, Origin, SessionFacts } from './types.js';

/** How to find the events of a derived credential or principal. */
export interface NodeQuery {
  readonly keys?: readonly string[];
  readonly principals?: readonly string[];
  readonly sessions?: readonly string[];
  /** Keep only events whose identity belongs to this account. */
  readonly principalAccount?: string;
  /** Keep only events at or after this time (a console session begins at sign-in). */
  readonly after?: string;
}

/** A credential or principal an event produced, to be followed in turn. */
export interface Derived {
  readonly id: string;
  readonly kind: NodeKind;
  readonly label: string;
  readonly principalArn: string | null;
  readonly account: string | null;
  readonly query: NodeQuery;
  /** When temporary credentials stop working, as the response says (ISO-8601). */
  readonly expiresAt?: string;
  /** For a role session: the role and session name the minting call names. */
  readonly session?: SessionFacts;
}

/** Calls that return temporary credentials in `responseElements.credentials`. */
export const MINTING_CALLS = new Set(['GetSessionToken', 'GetFederationToken', 'AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity']);

/** Console sessions made from temporary credentials last at most this long. */
const CONSOLE_SESSION_MS = 12 * 3600 * 1000;

/** Parses a JSON text, or gives null for anything that is not a JSON object. */
export function jsonObject(text: string | null): Record<string, unknown> | null {
  if (!text) return null;
  try {
    // First key wins, as in the SQL the detections run.
    const { value } = parseJsonFirstWins(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Reads a nested field as a string, or null. */
export function field(object: Record<string, unknown> | null, ...path: string[]): string | null {
  let at: unknown = object;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return null;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === 'string' ? at : typeof at === 'number' ? String(at) : null;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/**
 * Reads the dates STS and IAM write in responses: `Mar 4, 2026, 2:05:07 AM` (UTC), or ISO-8601,
 * or epoch seconds/milliseconds. Null when it cannot be read.
 */
export function parseAwsDate(text: string | null): string | null {
  if (!text) return null;
  const java = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})\s?(AM|PM)$/.exec(text.trim());
  if (java) {
    const [, mon, day, year, h, m, s, ampm] = java;
    const hour = (Number(h) % 12) + (ampm === 'PM' ? 12 : 0);
    const month = MONTHS[mon!];
    if (month === undefined) return null;
    return new Date(Date.UTC(Number(year), month, Number(day), hour, Number(m), Number(s))).toISOString().replace('.000Z', 'Z');
  }
  if (/^\d{10}(\d{3})?$/.test(text)) return new Date(Number(text) * (text.length === 10 ? 1000 : 1)).toISOString().replace('.000Z', 'Z');
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : new Date(parsed).toISOString().replace('.000Z', 'Z');
}

/** The account id inside an ARN. */
export function arnAccount(arn: string | null): string | null {
  const part = arn?.split(':')[4];
  return part && /^\d{12}$/.test(part) ? part : null;
}

/** The event as the origin of what it produced. */
export function originOf(event: EventRow, by: string): Origin {
  return {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventName: event.eventName,
    by,
    invoker: invokerOf(event),
    sourceIp: event.sourceIp,
    account: event.account,
    region: event.region,
  };
}

/**
 * Who made a call: the principal's ARN, or for a service acting on its own (Lambda or ECS
 * assuming a function's or task's role) the service, which CloudTrail writes as the source address.
 */
export function invokerOf(event: EventRow): string | null {
  if (event.principalArn) return event.principalArn;
  if (event.identityType === 'AWSService' && event.sourceIp?.endsWith('.amazonaws.com')) return event.sourceIp;
  return event.userName ?? event.sourceIp;
}

/** The node id of the credential that made a call, for a call made outside the lineage. */
export function callerNodeId(event: EventRow): string {
  if (event.accessKeyId) return `${event.accessKeyId.startsWith('ASIA') ? 'session' : 'key'}:${event.accessKeyId}`;
  return `principal:${invokerOf(event) ?? 'unknown'}`;
}

/** The credentials and principals a successful event hands its caller. */
export function derivedFrom(event: EventRow): Derived[] {
  if (event.errorCode) return [];
  const request = jsonObject(event.requestParameters);
  const response = jsonObject(event.responseElements);
  const account = event.account ?? event.principalAccount;
  const userArn = (name: string) => `arn:aws:iam::${account}:user/${name}`;
  switch (event.eventName) {
    case 'GetSessionToken':
    case 'GetFederationToken':
    case 'AssumeRole':
    case 'AssumeRoleWithSAML':
    case 'AssumeRoleWithWebIdentity':
      return stsCredentials(event, request, response);
    case 'GetSigninToken':
      // A federation sign-in: the console session acts as the same principal, with keys the console mints.
      if (!event.principalArn) return [];
      return [
        {
          id: `console:${event.principalArn}@${event.eventTime}`,
          kind: 'console-session',
          label: `console session of ${event.principalArn}`,
          principalArn: event.principalArn,
          account: event.principalAccount ?? account,
          query: { principals: [event.principalArn], after: event.eventTime },
          expiresAt: new Date(Date.parse(event.eventTime) + CONSOLE_SESSION_MS).toISOString().replace('.000Z', 'Z'),
        },
      ];
    case 'CreateAccessKey': {
      const key = field(response, 'accessKey', 'accessKeyId');
      const user = field(response, 'accessKey', 'userName') ?? field(request, 'userName') ?? event.userName;
      if (!key) return [];
      return [{ id: `key:${key}`, kind: 'access-key', label: key, principalArn: user ? userArn(user) : event.principalArn, account, query: { keys: [key] } }];
    }
    case 'CreateUser': {
      const name = field(request, 'userName') ?? field(response, 'user', 'userName');
      if (!name) return [];
      const arn = field(response, 'user', 'arn') ?? userArn(name);
      return [userNode(name, arn, account)];
    }
    case 'CreateLoginProfile':
    case 'UpdateLoginProfile': {
      const name = field(request, 'userName') ?? event.userName;
      return name ? [userNode(name, userArn(name), account)] : [];
    }
    case 'CreateRole':
    case 'UpdateAssumeRolePolicy': {
      const name = field(request, 'roleName');
      if (!name) return [];
      const arn = field(response, 'role', 'arn') ?? `arn:aws:iam::${account}:role/${name}`;
      const outside = outsidePrincipals(field(request, 'assumeRolePolicyDocument') ?? field(request, 'policyDocument'), account);
      // A changed trust policy matters when it lets someone new in; a new role always does.
      if (event.eventName === 'UpdateAssumeRolePolicy' && outside.length === 0) return [];
      return [{ id: `role:${arn}`, kind: 'role', label: arn, principalArn: arn, account, query: { principals: [arn] } }];
    }
    default:
      return [];
  }
}

function userNode(name: string, arn: string, account: string | null): Derived {
  // Matched by name and account, since an ARN built from a name misses any IAM path.
  return { id: `user:${account}:${name}`, kind: 'user', label: arn, principalArn: arn, account, query: { principals: [name], principalAccount: account ?? undefined } };
}

function stsCredentials(event: EventRow, request: Record<string, unknown> | null, response: Record<string, unknown> | null): Derived[] {
  const key = field(response, 'credentials', 'accessKeyId');
  const expiresAt = parseAwsDate(field(response, 'credentials', 'expiration')) ?? undefined;
  const roleArn = field(request, 'roleArn');
  const principalArn =
    field(response, 'assumedRoleUser', 'arn') ??
    field(response, 'federatedUser', 'arn') ??
    (event.eventName === 'GetSessionToken' ? event.principalArn : null) ??
    (roleArn && field(request, 'roleSessionName') ? sessionArn(roleArn, field(request, 'roleSessionName')!) : null);
  const account = arnAccount(principalArn) ?? arnAccount(roleArn) ?? event.account;
  const session: SessionFacts | undefined =
    roleArn || field(request, 'roleSessionName') ? { roleArn, sessionName: field(request, 'roleSessionName') } : undefined;
  if (key) {
    return [
      {
        id: `session:${key}`,
        kind: 'session-key',
        label: key,
        principalArn,
        account,
        query: { keys: [key] },
        ...(expiresAt ? { expiresAt } : {}),
        ...(session ? { session } : {}),
      },
    ];
  }
  // The response was redacted or not recorded: follow the role session by its name instead.
  const sessionName = field(request, 'roleSessionName');
  if (roleArn && sessionName) {
    const roleName = roleArn.split('/').pop()!;
    return [
      {
        id: `rolesession:${roleArn}/${sessionName}`,
        kind: 'session-key',
        label: `${roleName}/${sessionName} (key not in the record)`,
        principalArn,
        account,
        query: { principals: [roleName], sessions: [sessionName] },
        session: { roleArn, sessionName },
      },
    ];
  }
  return [];
}

function sessionArn(roleArn: string, sessionName: string): string {
  const account = arnAccount(roleArn) ?? '';
  return `arn:aws:sts::${account}:assumed-role/${roleArn.split('/').pop()}/${sessionName}`;
}

/**
 * The principals a trust policy lets in that are not of `account`: other accounts, `*`,
 * federated identity providers. The document may be URL-encoded, as IAM logs it.
 */
export function outsidePrincipals(document: string | null, account: string | null): string[] {
  if (!document) return [];
  let text = document;
  if (!text.trimStart().startsWith('{')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return [];
    }
  }
  const policy = jsonObject(text);
  const statements = policy?.['Statement'];
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const found = new Set<string>();
  for (const statement of list) {
    if (!statement || typeof statement !== 'object' || (statement as Record<string, unknown>)['Effect'] !== 'Allow') continue;
    const principal = (statement as Record<string, unknown>)['Principal'];
    for (const value of principalValues(principal)) {
      const owner = /^\d{12}$/.test(value) ? value : arnAccount(value);
      if (value === '*' || (owner !== null && owner !== account) || (owner === null && !value.endsWith('.amazonaws.com'))) found.add(value);
    }
  }
  return [...found].sort();
}

function principalValues(principal: unknown): string[] {
  if (typeof principal === 'string') return [principal];
  if (!principal || typeof principal !== 'object') return [];
  const values: string[] = [];
  for (const [kind, value] of Object.entries(principal as Record<string, unknown>)) {
    if (kind === 'Service') continue;
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') values.push(v);
  }
  return values;
}

/** IAM changes that give or widen access, as created-principal entries. */
export function principalChange(event: EventRow, by: string): CreatedPrincipal | null {
  if (event.errorCode) return null;
  const request = jsonObject(event.requestParameters);
  const response = jsonObject(event.responseElements);
  const account = event.account;
  const origin = originOf(event, by);
  const entry = (kind: CreatedPrincipal['kind'], name: string | null, arn: string | null, detail: string | null): CreatedPrincipal | null =>
    name ? { kind, name, arn, account, origin, detail } : null;
  const user = field(request, 'userName');
  switch (event.eventName) {
    case 'CreateUser':
      return entry('user', user, field(response, 'user', 'arn') ?? (user ? `arn:aws:iam::${account}:user/${user}` : null), null);
    case 'CreateAccessKey': {
      const owner = field(response, 'accessKey', 'userName') ?? user ?? event.userName;
      return entry('access-key', field(response, 'accessKey', 'accessKeyId'), owner ? `arn:aws:iam::${account}:user/${owner}` : null, owner ? `for user ${owner}` : null);
    }
    case 'CreateLoginProfile':
    case 'UpdateLoginProfile':
      return entry('login-profile', user ?? event.userName, null, event.eventName === 'CreateLoginProfile' ? 'console password created' : 'console password changed');
    case 'CreateRole':
    case 'UpdateAssumeRolePolicy': {
      const role = field(request, 'roleName');
      const outside = outsidePrincipals(field(request, 'assumeRolePolicyDocument') ?? field(request, 'policyDocument'), account);
      const detail = outside.length ? `trusts ${outside.join(', ')}` : null;
      return entry(event.eventName === 'CreateRole' ? 'role' : 'trust-policy', role, field(response, 'role', 'arn') ?? (role ? `arn:aws:iam::${account}:role/${role}` : null), detail);
    }
    case 'CreatePolicy':
      return entry('policy', field(request, 'policyName'), field(response, 'policy', 'arn'), 'customer managed policy created');
    case 'CreatePolicyVersion':
      return entry('policy', field(request, 'policyArn'), field(request, 'policyArn'), `new version${field(request, 'setAsDefault') === 'true' ? ', set as default' : ''}`);
    case 'SetDefaultPolicyVersion':
      return entry('policy', field(request, 'policyArn'), field(request, 'policyArn'), `default version set to ${field(request, 'versionId') ?? '?'}`);
    case 'AttachUserPolicy':
    case 'AttachRolePolicy':
    case 'AttachGroupPolicy': {
      const target = user ?? field(request, 'roleName') ?? field(request, 'groupName');
      const policy = field(request, 'policyArn');
      return entry('policy', policy, policy, `attached to ${event.eventName.slice(6, -6).toLowerCase()} ${target ?? '?'}`);
    }
    case 'PutUserPolicy':
    case 'PutRolePolicy':
    case 'PutGroupPolicy': {
      const target = user ?? field(request, 'roleName') ?? field(request, 'groupName');
      return entry('policy', field(request, 'policyName'), null, `inline policy on ${event.eventName.slice(3, -6).toLowerCase()} ${target ?? '?'}`);
    }
    case 'AddUserToGroup':
      return entry('group-membership', user, null, `added to group ${field(request, 'groupName') ?? '?'}`);
    default:
      return null;
  }
}
