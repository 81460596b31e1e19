/**
 * IAM as it stands: every user with its password, MFA devices, groups, policies and access keys
 * (status, creation, last use), every role with its trust policy and last use, and the
 * credential report (generated, polled until ready, its CSV parsed).
 */
import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetCredentialReportCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListMFADevicesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  type Role,
  type User,
} from '@aws-sdk/client-iam';
import { parse } from 'csv-parse/sync';
import { mapLimit } from '../core/pool.js';
import { sleep } from '../sources/aws.js';
import { gapOf } from './calls.js';
import { iso, resource, tagMap, type SnapshotContext } from './context.js';
import { isQuarantinePolicy, type SnapshotResource } from './types.js';

/** IAM lists page with Marker while IsTruncated. */
const marker = (page: { IsTruncated?: boolean | undefined; Marker?: string | undefined }) => (page.IsTruncated ? page.Marker : null);
const PER_PRINCIPAL = 4;

/** Users, their keys, and roles. */
export async function collectIam(ctx: SnapshotContext, client: IAMClient): Promise<SnapshotResource[]> {
  const userPages = await ctx.all('iam:ListUsers', null, (m) => client.send(new ListUsersCommand({ ...(m ? { Marker: m } : {}) })), marker);
  const users = userPages.flatMap((p) => p.Users ?? []);
  const perUser = await mapLimit(users, PER_PRINCIPAL, (user) => collectUser(ctx, client, user));
  const rolePages = await ctx.all('iam:ListRoles', null, (m) => client.send(new ListRolesCommand({ ...(m ? { Marker: m } : {}) })), marker);
  const roles = await mapLimit(rolePages.flatMap((p) => p.Roles ?? []), PER_PRINCIPAL, (role) => collectRole(ctx, client, role));
  return [...perUser.flat(), ...roles];
}

async function collectUser(ctx: SnapshotContext, client: IAMClient, user: User): Promise<SnapshotResource[]> {
  const UserName = user.UserName!;
  const login = await ctx.try('iam:GetLoginProfile', () => client.send(new GetLoginProfileCommand({ UserName })));
  let password: boolean | null = null;
  let passwordCreated: string | null = null;
  if (login.ok) {
    password = true;
    passwordCreated = iso(login.value.LoginProfile?.CreateDate);
  } else if (login.failure.code === 'NoSuchEntity' || login.failure.code === 'NoSuchEntityException') {
    password = false;
  } else {
    ctx.gaps.push(gapOf('iam:GetLoginProfile', null, login.failure));
  }
  const names = <P, T>(pages: P[], pick: (p: P) => T[] | undefined) => pages.flatMap((p) => pick(p) ?? []);
  const mfa = names(await ctx.all('iam:ListMFADevices', null, (m) => client.send(new ListMFADevicesCommand({ UserName, ...(m ? { Marker: m } : {}) })), marker), (p) => p.MFADevices).map((d) => d.SerialNumber ?? '');
  const groups = names(await ctx.all('iam:ListGroupsForUser', null, (m) => client.send(new ListGroupsForUserCommand({ UserName, ...(m ? { Marker: m } : {}) })), marker), (p) => p.Groups).map((g) => g.GroupName ?? '');
  const attached = names(await ctx.all('iam:ListAttachedUserPolicies', null, (m) => client.send(new ListAttachedUserPoliciesCommand({ UserName, ...(m ? { Marker: m } : {}) })), marker), (p) => p.AttachedPolicies).map((a) => a.PolicyArn ?? '');
  const inline = names(await ctx.all('iam:ListUserPolicies', null, (m) => client.send(new ListUserPoliciesCommand({ UserName, ...(m ? { Marker: m } : {}) })), marker), (p) => p.PolicyNames);
  const keys = names(await ctx.all('iam:ListAccessKeys', null, (m) => client.send(new ListAccessKeysCommand({ UserName, ...(m ? { Marker: m } : {}) })), marker), (p) => p.AccessKeyMetadata);
  const keyRows: SnapshotResource[] = [];
  for (const key of keys) {
    const AccessKeyId = key.AccessKeyId!;
    const used = await ctx.one('iam:GetAccessKeyLastUsed', null, () => client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId })));
    const last = used?.AccessKeyLastUsed;
    keyRows.push(
      resource({
        kind: 'iam:access-key',
        region: null,
        id: AccessKeyId,
        name: UserName,
        state: key.Status ?? null,
        createdAt: iso(key.CreateDate),
        detail: {
          userName: UserName,
          userArn: user.Arn ?? null,
          lastUsedDate: iso(last?.LastUsedDate),
          // "N/A" is IAM's word for never used.
          lastUsedService: last?.ServiceName && last.ServiceName !== 'N/A' ? last.ServiceName : null,
          lastUsedRegion: last?.Region && last.Region !== 'N/A' ? last.Region : null,
        },
      }),
    );
  }
  const quarantine = [...attached, ...inline].filter(isQuarantinePolicy);
  const row = resource({
    kind: 'iam:user',
    region: null,
    id: UserName,
    arn: user.Arn ?? null,
    name: UserName,
    state: 'exists',
    createdAt: iso(user.CreateDate),
    tags: tagMap(user.Tags),
    detail: {
      userId: user.UserId ?? null,
      path: user.Path ?? null,
      passwordEnabled: password,
      passwordCreated,
      passwordLastUsed: iso(user.PasswordLastUsed),
      mfaDevices: mfa,
      groups,
      attachedPolicies: attached,
      inlinePolicies: inline,
      accessKeys: keys.map((k) => k.AccessKeyId ?? ''),
      quarantinePolicies: quarantine,
    },
  });
  return [row, ...keyRows];
}

async function collectRole(ctx: SnapshotContext, client: IAMClient, listed: Role): Promise<SnapshotResource> {
  const RoleName = listed.RoleName!;
  // ListRoles leaves out RoleLastUsed and tags; GetRole has them.
  const got = await ctx.one('iam:GetRole', null, () => client.send(new GetRoleCommand({ RoleName })));
  const role = got?.Role ?? listed;
  const attached = (await ctx.all('iam:ListAttachedRolePolicies', null, (m) => client.send(new ListAttachedRolePoliciesCommand({ RoleName, ...(m ? { Marker: m } : {}) })), marker)).flatMap((p) => p.AttachedPolicies ?? []).map((a) => a.PolicyArn ?? '');
  const inline = (await ctx.all('iam:ListRolePolicies', null, (m) => client.send(new ListRolePoliciesCommand({ RoleName, ...(m ? { Marker: m } : {}) })), marker)).flatMap((p) => p.PolicyNames ?? []);
  return resource({
    kind: 'iam:role',
    region: null,
    id: RoleName,
    arn: role.Arn ?? null,
    name: RoleName,
    state: 'exists',
    createdAt: iso(role.CreateDate),
    tags: tagMap(role.Tags),
    detail: {
      roleId: role.RoleId ?? null,
      path: role.Path ?? null,
      trustPolicy: policyDocument(role.AssumeRolePolicyDocument),
      lastUsedDate: iso(role.RoleLastUsed?.LastUsedDate),
      lastUsedRegion: role.RoleLastUsed?.Region ?? null,
      attachedPolicies: attached,
      inlinePolicies: inline,
    },
  });
}

/** IAM gives policy documents URL-encoded; the JSON when it parses, else the text. */
export function policyDocument(text: string | undefined): unknown {
  if (!text) return null;
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // Not encoded.
  }
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

/**
 * The credential report: GenerateCredentialReport until IAM says COMPLETE (it builds the
 * report in the background; a report under four hours old is reused), then GetCredentialReport
 * and its CSV. null, with a gap, when it cannot be had.
 */
export async function credentialReport(ctx: SnapshotContext, client: IAMClient): Promise<Array<Record<string, string>> | null> {
  const polls = ctx.settings.reportPolls ?? 30;
  for (let poll = 0; poll < polls; poll++) {
    const generated = await ctx.one('iam:GenerateCredentialReport', null, () => client.send(new GenerateCredentialReportCommand({})));
    if (!generated) return null;
    if (generated.State === 'COMPLETE') break;
    if (poll === polls - 1) {
      ctx.gaps.push({ service: 'iam', region: null, call: 'iam:GenerateCredentialReport', reason: `the credential report was still ${generated.State ?? 'not ready'} after ${polls} polls; take the snapshot again later` });
      return null;
    }
    await sleep(ctx.settings.reportPollMs ?? 2000, ctx.settings.signal);
  }
  const got = await ctx.one('iam:GetCredentialReport', null, () => client.send(new GetCredentialReportCommand({})));
  if (!got?.Content) return null;
  const text = Buffer.from(got.Content).toString('utf8');
  try {
    return parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Array<Record<string, string>>;
  } catch (error) {
    ctx.gaps.push({ service: 'iam', region: null, call: 'iam:GetCredentialReport', reason: `the credential report is not CSV that parses (${(error as Error).message.split('\n')[0]})` });
    return null;
  }
}
