import type { PolicyDocument } from './types.js';

/**
 * A policy that denies everything to temporary credentials issued before `containedAt`
 * (`aws:TokenIssueTime`). Attached to a user it cuts the sessions minted from the user's
 * keys (GetSessionToken, GetFederationToken) without touching the user's new long-term key,
 * whose requests carry no token issue time; attached to a role it is what the console's
 * "Revoke active sessions" does.
 */
export function revokeOlderSessionsPolicy(containedAt: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenySessionsIssuedBeforeContainment',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': containedAt } },
      },
    ],
  };
}

/** A deny-all policy, to attach for the maximum session lifetime when a dated condition will not do. */
export function denyAllPolicy(): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Sid: 'DenyAllDuringContainment', Effect: 'Deny', Action: '*', Resource: '*' }] };
}

/** The longest a session minted by GetSessionToken or GetFederationToken can live (36 hours). */
export const MAX_USER_SESSION_SECONDS = 129_600;

/** The longest a role session can live (12 hours, the highest maximum session duration a role may have). */
export const MAX_ROLE_SESSION_SECONDS = 43_200;
