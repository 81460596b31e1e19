/**
 * Which plan actions the evidence shows already carried out: a key deactivated or deleted, a
 * user or role deleted, a policy detached, sharing revoked, an instance terminated, logging
 * started again — by the responder, or by the attacker cleaning up behind them. An action is
 * done when a successful call that carries it out, on the same target, comes after the event
 * the action answers; for an access key the latest UpdateAccessKey decides (a key set Active
 * again is open again). Pure: events in, a verdict per action out.
 */
import { firstUnder, stringsUnder, type EvidenceEvent } from '../report/evidence.js';
import { sharingChange } from './event-rules.js';
import type { DoneInEvidence, RemediationAction } from './types.js';

const lastSegment = (value: string) => value.split(/[/:]/).at(-1) ?? value;
const req = (e: EvidenceEvent, key: string) => firstUnder(e.requestParameters, key);
const sameName = (a: string | null, b: string) => a !== null && (a === b || lastSegment(a) === lastSegment(b));

/** How one kind of action is carried out: the calls, and whether a call acts on the action's target. */
interface Completion {
  readonly names: readonly string[];
  readonly on: (e: EvidenceEvent, target: string, action: RemediationAction) => boolean;
  /** Several calls may be needed (instances terminated in batches): each target word must be covered. */
  readonly perWord?: boolean;
}

const accessKeyGone: Completion = {
  names: ['UpdateAccessKey', 'DeleteAccessKey'],
  on: (e, key) => req(e, 'accessKeyId') === key,
};

/** `<principal> <policy>` targets: both must match. */
const pair = (principalKey: string, policyKey: string): Completion['on'] => (e, target) => {
  const [principal, policy] = target.split(' ');
  return req(e, principalKey) === principal && sameName(req(e, policyKey), policy ?? '');
};

const named = (names: readonly string[], key: string, sameRegion = false): Completion => ({
  names,
  on: (e, target, action) => sameName(req(e, key), target) && (!sameRegion || !action.region || e.region === action.region),
});

const regional = (names: readonly string[]): Completion => ({ names, on: (e, _t, action) => !action.region || e.region === action.region });

/** A session deny policy: PutUserPolicy / PutRolePolicy whose document tests aws:TokenIssueTime, on the target. */
const sessionsDenied = (name: 'PutUserPolicy' | 'PutRolePolicy', key: 'userName' | 'roleName'): Completion => ({
  names: [name],
  on: (e, target) => sameName(req(e, key), target) && /aws:TokenIssueTime/i.test(req(e, 'policyDocument') ?? ''),
});

/** Sharing revoked: the attribute changed with accounts removed, or the shared snapshot or image deleted. */
const unshared = (names: readonly string[], ids: readonly string[]): Completion => ({
  names,
  on: (e, target) => ids.some((k) => req(e, k) === target) && (/^(Delete|Deregister)/.test(e.eventName) || sharingChange(e).removed.length > 0),
});

const COMPLETIONS: Readonly<Record<string, Completion>> = {
  'deactivate-access-key': accessKeyGone,
  'delete-access-key': { names: ['DeleteAccessKey'], on: (e, key) => req(e, 'accessKeyId') === key },
  'delete-root-access-key': { names: ['DeleteAccessKey'], on: (e, key) => req(e, 'accessKeyId') === key },
  'delete-user': named(['DeleteUser'], 'userName'),
  'delete-login-profile': named(['DeleteLoginProfile'], 'userName'),
  'detach-user-policy': { names: ['DetachUserPolicy'], on: pair('userName', 'policyArn') },
  'detach-role-policy': { names: ['DetachRolePolicy'], on: pair('roleName', 'policyArn') },
  'detach-group-policy': { names: ['DetachGroupPolicy'], on: pair('groupName', 'policyArn') },
  'delete-user-policy': { names: ['DeleteUserPolicy'], on: pair('userName', 'policyName') },
  'delete-role-policy': { names: ['DeleteRolePolicy'], on: pair('roleName', 'policyName') },
  'delete-group-policy': { names: ['DeleteGroupPolicy'], on: pair('groupName', 'policyName') },
  // The plan names a membership `group/user`.
  'remove-user-from-group': { names: ['RemoveUserFromGroup'], on: (e, target) => `${req(e, 'groupName')}/${req(e, 'userName')}` === target },
  'delete-role': named(['DeleteRole'], 'roleName'),
  'delete-policy': named(['DeletePolicy'], 'policyArn'),
  'delete-saml-provider': named(['DeleteSAMLProvider'], 'sAMLProviderArn'),
  'delete-open-id-connect-provider': named(['DeleteOpenIDConnectProvider'], 'openIDConnectProviderArn'),
  'delete-ssh-public-key': named(['DeleteSSHPublicKey'], 'sSHPublicKeyId'),
  'delete-signing-certificate': named(['DeleteSigningCertificate'], 'certificateId'),
  'delete-service-specific-credential': named(['DeleteServiceSpecificCredential'], 'serviceSpecificCredentialId'),
  'deny-sessions-issued-before': sessionsDenied('PutUserPolicy', 'userName'),
  'revoke-role-sessions': sessionsDenied('PutRolePolicy', 'roleName'),
  'terminate-instances': { names: ['TerminateInstances'], on: () => true, perWord: true },
  'cancel-spot-requests': { names: ['CancelSpotInstanceRequests'], on: () => true, perWord: true },
  'delete-auto-scaling-group': named(['DeleteAutoScalingGroup'], 'autoScalingGroupName', true),
  'delete-launch-template': named(['DeleteLaunchTemplate'], 'launchTemplateName', true),
  'delete-launch-configuration': named(['DeleteLaunchConfiguration'], 'launchConfigurationName', true),
  'delete-lambda-function': named(['DeleteFunction20150331', 'DeleteFunction'], 'functionName', true),
  'delete-ecs-cluster': named(['DeleteCluster'], 'cluster', true),
  'delete-ecr-repository': named(['DeleteRepository'], 'repositoryName', true),
  'delete-key-pair': named(['DeleteKeyPair'], 'keyName', true),
  'delete-sagemaker-notebook': named(['DeleteNotebookInstance'], 'notebookInstanceName', true),
  'start-logging': named(['StartLogging'], 'name'),
  'enable-guardduty': regional(['CreateDetector']),
  'enable-security-hub': regional(['EnableSecurityHub']),
  'start-config-recorder': named(['StartConfigurationRecorder'], 'configurationRecorderName', true),
  'enable-eventbridge-rule': named(['EnableRule'], 'name', true),
  'revoke-snapshot-sharing': unshared(['ModifySnapshotAttribute', 'DeleteSnapshot'], ['snapshotId']),
  'revoke-image-sharing': unshared(['ModifyImageAttribute', 'DeregisterImage'], ['imageId']),
  'revoke-db-snapshot-sharing': unshared(['ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute', 'DeleteDBSnapshot', 'DeleteDBClusterSnapshot'], ['dBSnapshotIdentifier', 'dBClusterSnapshotIdentifier']),
  'revoke-kms-grant': { names: ['RevokeGrant', 'RetireGrant'], on: (e, target) => target.split(' ').slice(1).includes(req(e, 'grantId') ?? '\u0000') },
};

/** Every event name that can carry out an action: what the store is asked for besides the plan's own events. */
export const COMPLETION_EVENT_NAMES: readonly string[] = [...new Set(Object.values(COMPLETIONS).flatMap((c) => c.names))].sort();

/** The actor of an event, for the line that says who did it. */
function actorOf(e: EvidenceEvent): string {
  return e.principalArn ?? e.userName ?? e.accessKeyId ?? 'unknown';
}

function verdict(e: EvidenceEvent): DoneInEvidence {
  return { eventId: e.eventId, eventName: e.eventName, eventTime: e.eventTime, actor: actorOf(e), sourceIp: e.sourceIp };
}

/**
 * The call that carried each action out, by the action's index; actions the evidence does not
 * show done are absent. `events` are all the events the plan may read, by time.
 */
export function doneInEvidence(actions: readonly RemediationAction[], events: readonly EvidenceEvent[], timeOf: (eventId: string) => string | undefined): Map<number, DoneInEvidence> {
  const byName = new Map<string, EvidenceEvent[]>();
  for (const e of events) {
    if (e.errorCode) continue;
    const list = byName.get(e.eventName);
    if (list) list.push(e);
    else byName.set(e.eventName, [e]);
  }
  const done = new Map<number, DoneInEvidence>();
  actions.forEach((action, index) => {
    const completion = COMPLETIONS[action.kind];
    if (!completion) return;
    // After the call the action answers; an action without one (an exposed key) counts any call.
    const after = action.evidence.map(timeOf).filter((t): t is string => t !== undefined).sort().at(-1) ?? '';
    const candidates = completion.names.flatMap((n) => byName.get(n) ?? []).filter((e) => e.eventTime >= after && (!action.account || !e.account || e.account === action.account));
    candidates.sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0));
    if (completion.perWord) {
      const words = action.target.split(' ').filter(Boolean);
      const by = words.map((w) => candidates.find((e) => (!action.region || e.region === action.region) && stringsUnder(e.requestParameters, 'instanceId').concat(stringsUnder(e.requestParameters, 'spotInstanceRequestId')).includes(w)));
      if (words.length > 0 && by.every(Boolean)) done.set(index, verdict(by.sort((a, b) => (a!.eventTime < b!.eventTime ? 1 : -1))[0]!));
      return;
    }
    const hits = candidates.filter((e) => completion.on(e, action.target, action));
    if (hits.length === 0) return;
    if (completion === accessKeyGone) {
      // The latest word on the key decides, unless it was deleted.
      const deleted = hits.find((e) => e.eventName === 'DeleteAccessKey');
      const last = deleted ?? hits.at(-1)!;
      if (last.eventName === 'DeleteAccessKey' || (req(last, 'status') ?? '').toLowerCase() === 'inactive') done.set(index, verdict(last));
      return;
    }
    done.set(index, verdict(hits[0]!));
  });
  return done;
}
