/**
 * What each attacker call leaves behind and how to undo it: event name → actions. Values
 * come from the event's request and response (ids, names), each checked against the grammar
 * AWS gives for its kind before it goes into a command as one `--option=value` word.
 */
import { firstUnder, stringsUnder, type EvidenceEvent } from '../report/evidence.js';
import { command, type Arg, type Built, type Kind } from './shell.js';
import type { RemediationAction, StepId } from './types.js';

/** A rule's output: an action without the fields the plan fills in. */
type Draft = Omit<RemediationAction, 'evidence' | 'account'> & { readonly account?: string | null };

type Rule = (event: EvidenceEvent) => Draft[];

const describedAs = (e: EvidenceEvent) => `${e.eventName} at ${e.eventTime}${e.accessKeyId ? ` by ${e.accessKeyId}` : ''}${e.sourceIp ? ` from ${e.sourceIp}` : ''}`;

const req = (e: EvidenceEvent, key: string) => firstUnder(e.requestParameters, key);
const res = (e: EvidenceEvent, key: string) => firstUnder(e.responseElements, key);
const accountOfArn = (arn: string | null) => (arn ? (/^arn:aws[\w-]*:iam::(\d{12}):/.exec(arn)?.[1] ?? null) : null);

function draft(step: StepId, kind: string, target: string, region: string | null, reason: string, built: Built | null, extra: Partial<Draft> = {}): Draft {
  return { step, kind, target, region, reason, command: null, ...built, ...extra };
}

/** IAM is global; its calls are recorded in us-east-1 and its commands take no region. */
const iamRules: Record<string, Rule> = {
  CreateUser: (e) => {
    const user = req(e, 'userName');
    if (!user) return [];
    const arn = res(e, 'arn') ?? user;
    return [
      draft(
        'attacker-principals',
        'delete-user',
        arn,
        null,
        `IAM user ${user} was created by ${describedAs(e)}. Delete it once its keys, password, policies and group memberships are gone (aws iam list-access-keys / list-attached-user-policies / list-user-policies / list-groups-for-user show what remains), unless your team made it.`,
        command(['aws iam delete-user', ['--user-name', user, 'iamUserName']]),
      ),
    ];
  },
  CreateAccessKey: (e) => {
    const key = res(e, 'accessKeyId');
    const user = req(e, 'userName') ?? res(e, 'userName') ?? e.userName;
    if (!key) return [];
    const userArg: Arg[] = user ? [['--user-name', user, 'iamUserName']] : [];
    return [
      draft(
        'attacker-principals',
        'deactivate-access-key',
        key,
        null,
        `Access key ${key}${user ? ` of ${user}` : ''} was created by ${describedAs(e)}: a way back in. Deactivate it now.`,
        command(['aws iam update-access-key', ...userArg, ['--access-key-id', key, 'accessKeyId'], '--status Inactive']),
      ),
      draft(
        'attacker-principals',
        'delete-access-key',
        key,
        null,
        `Delete access key ${key} once its use has been reviewed (a deactivated key still shows failed attempts in CloudTrail).`,
        command(['aws iam delete-access-key', ...userArg, ['--access-key-id', key, 'accessKeyId']]),
      ),
    ];
  },
  CreateLoginProfile: (e) => loginProfile(e, 'given a console password'),
  UpdateLoginProfile: (e) => loginProfile(e, 'had its console password changed'),
  AttachUserPolicy: (e) => detach(e, 'user', 'iamUserName', 'detach-user-policy'),
  AttachRolePolicy: (e) => detach(e, 'role', 'iamRoleName', 'detach-role-policy'),
  AttachGroupPolicy: (e) => detach(e, 'group', 'iamGroupName', 'detach-group-policy'),
  PutUserPolicy: (e) => inline(e, 'user', 'iamUserName', 'delete-user-policy'),
  PutRolePolicy: (e) => inline(e, 'role', 'iamRoleName', 'delete-role-policy'),
  PutGroupPolicy: (e) => inline(e, 'group', 'iamGroupName', 'delete-group-policy'),
  CreateRole: (e) => {
    const role = req(e, 'roleName');
    if (!role) return [];
    return [
      draft(
        'attacker-principals',
        'delete-role',
        res(e, 'arn') ?? role,
        null,
        `Role ${role} was created by ${describedAs(e)}. Review who its trust policy lets in (aws iam get-role), then detach its policies and delete it, unless your team made it.`,
        command(['aws iam delete-role', ['--role-name', role, 'iamRoleName']]),
      ),
    ];
  },
  UpdateAssumeRolePolicy: (e) => {
    const role = req(e, 'roleName');
    if (!role) return [];
    return [
      draft(
        'attacker-principals',
        'revert-trust-policy',
        role,
        null,
        `The trust policy of role ${role} was replaced by ${describedAs(e)}; it may now trust an outside principal. Restore the previous document (from your infrastructure code or AWS Config history).`,
        command(['aws iam update-assume-role-policy', ['--role-name', role, 'iamRoleName'], '--policy-document file://trust-policy-before.json']),
      ),
    ];
  },
  CreatePolicy: (e) => {
    const arn = res(e, 'arn');
    const name = req(e, 'policyName');
    if (!arn && !name) return [];
    return [
      draft(
        'attacker-principals',
        'delete-policy',
        arn ?? name!,
        null,
        `Managed policy ${name ?? arn} was created by ${describedAs(e)}. Detach it everywhere (aws iam list-entities-for-policy), delete its other versions, then delete it.`,
        command(['aws iam delete-policy', ['--policy-arn', arn, 'iamPolicyArn']]),
      ),
    ];
  },
  CreatePolicyVersion: (e) => {
    const arn = req(e, 'policyArn');
    const version = res(e, 'versionId');
    if (!arn) return [];
    return [
      draft(
        'attacker-principals',
        'revert-policy-version',
        arn,
        null,
        `A new version${version ? ` (${version})` : ''} of ${arn} was written by ${describedAs(e)}${req(e, 'setAsDefault') === 'true' ? ' and made the default' : ''}. Make the previous version the default again (aws iam list-policy-versions), then delete the new one.`,
        command(['aws iam delete-policy-version', ['--policy-arn', arn, 'iamPolicyArn'], ['--version-id', version, 'iamPolicyVersionId']]),
      ),
    ];
  },
  SetDefaultPolicyVersion: (e) => {
    const arn = req(e, 'policyArn');
    if (!arn) return [];
    return [
      draft('attacker-principals', 'revert-policy-version', arn, null, `The default version of ${arn} was changed by ${describedAs(e)}. Set the version your team approved back as default.`, null),
    ];
  },
  AddUserToGroup: (e) => {
    const user = req(e, 'userName');
    const group = req(e, 'groupName');
    if (!user || !group) return [];
    return [
      draft(
        'attacker-principals',
        'remove-user-from-group',
        `${group}/${user}`,
        null,
        `User ${user} was added to group ${group} by ${describedAs(e)}.`,
        command(['aws iam remove-user-from-group', ['--group-name', group, 'iamGroupName'], ['--user-name', user, 'iamUserName']]),
      ),
    ];
  },
  CreateServiceSpecificCredential: (e) => {
    const user = req(e, 'userName');
    const id = res(e, 'serviceSpecificCredentialId');
    return [
      draft(
        'attacker-principals',
        'delete-service-specific-credential',
        id ?? user ?? 'unknown',
        null,
        `A service-specific credential (CodeCommit, Keyspaces, Bedrock API key) was created${user ? ` for ${user}` : ''} by ${describedAs(e)}.`,
        command(['aws iam delete-service-specific-credential', ['--user-name', user, 'iamUserName'], ['--service-specific-credential-id', id, 'iamServiceSpecificCredentialId']]),
      ),
    ];
  },
  UploadSSHPublicKey: (e) => {
    const user = req(e, 'userName');
    const id = res(e, 'sSHPublicKeyId');
    return [
      draft('attacker-principals', 'delete-ssh-public-key', id ?? user ?? 'unknown', null, `An SSH public key was uploaded${user ? ` for ${user}` : ''} by ${describedAs(e)}.`, command(['aws iam delete-ssh-public-key', ['--user-name', user, 'iamUserName'], ['--ssh-public-key-id', id, 'iamSshPublicKeyId']])),
    ];
  },
  UploadSigningCertificate: (e) => {
    const user = req(e, 'userName');
    const id = res(e, 'certificateId');
    return [
      draft('attacker-principals', 'delete-signing-certificate', id ?? user ?? 'unknown', null, `A signing certificate was uploaded${user ? ` for ${user}` : ''} by ${describedAs(e)}.`, command(['aws iam delete-signing-certificate', ['--user-name', user, 'iamUserName'], ['--certificate-id', id, 'iamSigningCertificateId']])),
    ];
  },
  CreateSAMLProvider: (e) => {
    const arn = res(e, 'sAMLProviderArn');
    return [draft('attacker-principals', 'delete-saml-provider', arn ?? req(e, 'name') ?? 'unknown', null, `A SAML identity provider was created by ${describedAs(e)}: it can let outside identities assume roles.`, command(['aws iam delete-saml-provider', ['--saml-provider-arn', arn, 'iamSamlProviderArn']]))];
  },
  CreateOpenIDConnectProvider: (e) => {
    const arn = res(e, 'openIDConnectProviderArn');
    return [draft('attacker-principals', 'delete-open-id-connect-provider', arn ?? req(e, 'url') ?? 'unknown', null, `An OIDC identity provider was created by ${describedAs(e)}: it can let outside identities assume roles.`, command(['aws iam delete-open-id-connect-provider', ['--open-id-connect-provider-arn', arn, 'iamOidcProviderArn']]))];
  },
};

function loginProfile(e: EvidenceEvent, what: string): Draft[] {
  const user = req(e, 'userName') ?? e.userName;
  if (!user) return [];
  return [
    draft(
      'attacker-principals',
      'delete-login-profile',
      user,
      null,
      `User ${user} was ${what} by ${describedAs(e)}: console access for the attacker. Remove it (or, for a user your team keeps, set a new password).`,
      command(['aws iam delete-login-profile', ['--user-name', user, 'iamUserName']]),
    ),
  ];
}

function detach(e: EvidenceEvent, what: 'user' | 'role' | 'group', nameKind: Kind, verb: string): Draft[] {
  const name = req(e, `${what}Name`);
  const policy = req(e, 'policyArn');
  if (!name || !policy) return [];
  return [
    draft(
      'attacker-principals',
      verb,
      `${name} ${policy}`,
      null,
      `${policy} was attached to ${what} ${name} by ${describedAs(e)}.`,
      command([`aws iam ${verb}`, [`--${what}-name`, name, nameKind], ['--policy-arn', policy, 'iamPolicyArn']]),
    ),
  ];
}

function inline(e: EvidenceEvent, what: 'user' | 'role' | 'group', nameKind: Kind, verb: string): Draft[] {
  const name = req(e, `${what}Name`);
  const policy = req(e, 'policyName');
  if (!name || !policy) return [];
  return [
    draft(
      'attacker-principals',
      verb,
      `${name} ${policy}`,
      null,
      `Inline policy ${policy} was put on ${what} ${name} by ${describedAs(e)}.`,
      command([`aws iam ${verb}`, [`--${what}-name`, name, nameKind], ['--policy-name', policy, 'iamPolicyName']]),
    ),
  ];
}

const regionArg = (e: EvidenceEvent): Arg => ['--region', e.region, 'region'];

function simpleDelete(step: StepId, kind: string, what: string, key: string, from: 'req' | 'res', cli: (v: string) => ReadonlyArray<string | Arg>, advice = ''): Rule {
  return (e) => {
    const values = [...new Set(stringsUnder(from === 'req' ? e.requestParameters : e.responseElements, key))];
    return values.map((v) =>
      draft(step, kind, v, e.region, `${what} ${v} was created by ${describedAs(e)}${e.region ? ` in ${e.region}` : ''}.${advice ? ` ${advice}` : ''}`, command([...cli(v), regionArg(e)])),
    );
  };
}

const computeRules: Record<string, Rule> = {
  RunInstances: (e) => {
    const ids = [...new Set(stringsUnder(e.responseElements, 'instanceId'))].sort();
    if (ids.length === 0) return [];
    const type = req(e, 'instanceType');
    const list = ids.join(' ');
    const describe = command(['aws ec2 describe-instances', regionArg(e), ['--instance-ids', ids, 'ec2InstanceId']]);
    const snapshot = command(['aws ec2 create-snapshot', regionArg(e), '--volume-id="$v"', "--description='incident evidence'"]);
    return [
      draft(
        'launched-resources',
        'snapshot-volumes',
        list,
        e.region,
        `Before terminating, snapshot the EBS volumes of ${ids.length} instance(s)${type ? ` (${type})` : ''} launched by ${describedAs(e)} in ${e.region ?? 'an unknown region'}, if they are needed as evidence.`,
        describe.command && snapshot.command ? { command: `for v in $(${describe.command} --query 'Reservations[].Instances[].BlockDeviceMappings[].Ebs.VolumeId' --output text); do ${snapshot.command}; done` } : { ...describe, command: null },
      ),
      draft(
        'launched-resources',
        'terminate-instances',
        list,
        e.region,
        `${ids.length} instance(s)${type ? ` of type ${type}` : ''} launched by ${describedAs(e)} in ${e.region ?? 'an unknown region'}.`,
        command(['aws ec2 terminate-instances', regionArg(e), ['--instance-ids', ids, 'ec2InstanceId']]),
      ),
    ];
  },
  RequestSpotInstances: (e) => {
    const ids = [...new Set(stringsUnder(e.responseElements, 'spotInstanceRequestId'))].sort();
    if (ids.length === 0) return [];
    return [
      draft(
        'launched-resources',
        'cancel-spot-requests',
        ids.join(' '),
        e.region,
        `Spot request(s) made by ${describedAs(e)} in ${e.region}; cancel them, then terminate the instances they started (aws ec2 describe-spot-instance-requests shows them).`,
        command(['aws ec2 cancel-spot-instance-requests', regionArg(e), ['--spot-instance-request-ids', ids, 'ec2SpotRequestId']]),
      ),
    ];
  },
  RequestSpotFleet: simpleDelete('launched-resources', 'cancel-spot-fleet', 'Spot fleet', 'spotFleetRequestId', 'res', (v) => ['aws ec2 cancel-spot-fleet-requests --terminate-instances', ['--spot-fleet-request-ids', v, 'ec2SpotFleetRequestId']]),
  CreateFleet: simpleDelete('launched-resources', 'delete-fleet', 'EC2 fleet', 'fleetId', 'res', (v) => ['aws ec2 delete-fleets --terminate-instances', ['--fleet-ids', v, 'ec2FleetId']]),
  CreateAutoScalingGroup: simpleDelete('launched-resources', 'delete-auto-scaling-group', 'Auto Scaling group', 'autoScalingGroupName', 'req', (v) => ['aws autoscaling delete-auto-scaling-group --force-delete', ['--auto-scaling-group-name', v, 'autoScalingGroupName']], 'Deleting it with --force-delete also terminates its instances; snapshot first if they are evidence.'),
  CreateLaunchTemplate: simpleDelete('launched-resources', 'delete-launch-template', 'Launch template', 'launchTemplateName', 'req', (v) => ['aws ec2 delete-launch-template', ['--launch-template-name', v, 'ec2LaunchTemplateName']]),
  CreateLaunchConfiguration: simpleDelete('launched-resources', 'delete-launch-configuration', 'Launch configuration', 'launchConfigurationName', 'req', (v) => ['aws autoscaling delete-launch-configuration', ['--launch-configuration-name', v, 'launchConfigurationName']]),
  CreateFunction20150331: simpleDelete('launched-resources', 'delete-lambda-function', 'Lambda function', 'functionName', 'req', (v) => ['aws lambda delete-function', ['--function-name', v, 'lambdaFunctionName']]),
  CreateFunction: simpleDelete('launched-resources', 'delete-lambda-function', 'Lambda function', 'functionName', 'req', (v) => ['aws lambda delete-function', ['--function-name', v, 'lambdaFunctionName']]),
  PublishLayerVersion20181031: (e) => layer(e),
  PublishLayerVersion: (e) => layer(e),
  CreateCluster: (e) => (e.eventSource.startsWith('ecs.') ? simpleDelete('launched-resources', 'delete-ecs-cluster', 'ECS cluster', 'clusterName', 'req', (v) => ['aws ecs delete-cluster', ['--cluster', v, 'ecsCluster']], 'Delete its services and stop its tasks first.')(e) : []),
  CreateService: (e) => (e.eventSource.startsWith('ecs.') ? simpleDelete('launched-resources', 'delete-ecs-service', 'ECS service', 'serviceArn', 'res', (v) => ['aws ecs delete-service --force', ['--cluster', req(e, 'cluster') ?? 'default', 'ecsCluster'], ['--service', v, 'ecsServiceArn']])(e) : []),
  RunTask: (e) => (e.eventSource.startsWith('ecs.') ? simpleDelete('launched-resources', 'stop-ecs-task', 'ECS task', 'taskArn', 'res', (v) => ['aws ecs stop-task', ['--cluster', req(e, 'cluster') ?? 'default', 'ecsCluster'], ['--task', v, 'ecsTaskArn']])(e) : []),
  RegisterTaskDefinition: simpleDelete('launched-resources', 'deregister-task-definition', 'ECS task definition', 'taskDefinitionArn', 'res', (v) => ['aws ecs deregister-task-definition', ['--task-definition', v, 'ecsTaskDefinitionArn']]),
  CreateRepository: (e) => (e.eventSource.startsWith('ecr.') ? simpleDelete('launched-resources', 'delete-ecr-repository', 'ECR repository', 'repositoryName', 'req', (v) => ['aws ecr delete-repository --force', ['--repository-name', v, 'ecrRepositoryName']])(e) : []),
  CreateInstances: (e) => (e.eventSource.startsWith('lightsail.') ? simpleDelete('launched-resources', 'delete-lightsail-instance', 'Lightsail instance', 'instanceNames', 'req', (v) => ['aws lightsail delete-instance', ['--instance-name', v, 'lightsailInstanceName']])(e) : []),
  CreateNotebookInstance: simpleDelete('launched-resources', 'delete-sagemaker-notebook', 'SageMaker notebook instance', 'notebookInstanceName', 'req', (v) => ['aws sagemaker delete-notebook-instance', ['--notebook-instance-name', v, 'sageMakerName']], 'Stop it first (aws sagemaker stop-notebook-instance).'),
  CreateTrainingJob: simpleDelete('launched-resources', 'stop-sagemaker-training-job', 'SageMaker training job', 'trainingJobName', 'req', (v) => ['aws sagemaker stop-training-job', ['--training-job-name', v, 'sageMakerName']]),
  CreateEndpoint: (e) => (e.eventSource.startsWith('sagemaker.') ? simpleDelete('launched-resources', 'delete-sagemaker-endpoint', 'SageMaker endpoint', 'endpointName', 'req', (v) => ['aws sagemaker delete-endpoint', ['--endpoint-name', v, 'sageMakerName']])(e) : []),
  RegisterDomain: (e) => {
    const domain = req(e, 'domainName');
    if (!domain) return [];
    return [
      draft(
        'launched-resources',
        'disable-domain-auto-renew',
        domain,
        'us-east-1',
        `Domain ${domain} was registered by ${describedAs(e)}. Registrations cannot be undone by the API: turn off auto-renew and ask AWS Support about the charge.`,
        command(['aws route53domains disable-domain-auto-renew --region us-east-1', ['--domain-name', domain, 'domainName']]),
      ),
    ];
  },
  CreateKeyPair: simpleDelete('launched-resources', 'delete-key-pair', 'EC2 key pair', 'keyName', 'req', (v) => ['aws ec2 delete-key-pair', ['--key-name', v, 'ec2KeyPairName']]),
  ImportKeyPair: simpleDelete('launched-resources', 'delete-key-pair', 'EC2 key pair', 'keyName', 'req', (v) => ['aws ec2 delete-key-pair', ['--key-name', v, 'ec2KeyPairName']]),
};

function layer(e: EvidenceEvent): Draft[] {
  const name = req(e, 'layerName');
  const version = res(e, 'version');
  if (!name) return [];
  return [
    draft('launched-resources', 'delete-lambda-layer-version', `${name}:${version ?? '?'}`, e.region, `Lambda layer ${name} was published by ${describedAs(e)} in ${e.region}.`, command(['aws lambda delete-layer-version', ['--layer-name', name, 'lambdaLayerName'], ['--version-number', version, 'lambdaLayerVersion'], regionArg(e)])),
  ];
}

function restore(kind: string, what: (e: EvidenceEvent) => string | null, advice: string, cli: ((v: string, e: EvidenceEvent) => ReadonlyArray<string | Arg>) | null): Rule {
  return (e) => {
    const target = what(e) ?? e.eventSource;
    const parts = cli ? cli(target, e) : null;
    return [draft('logging', kind, target, e.region, `${e.eventName} on ${target} by ${describedAs(e)}${e.region ? ` in ${e.region}` : ''}. ${advice}`, parts ? command([...parts, regionArg(e)]) : null)];
  };
}

const loggingRules: Record<string, Rule> = {
  StopLogging: restore('start-logging', (e) => req(e, 'name'), 'Start logging again; the events of the gap are lost for good.', (v) => ['aws cloudtrail start-logging', ['--name', v, 'cloudTrailTrail']]),
  DeleteTrail: restore('recreate-trail', (e) => req(e, 'name'), 'Create the trail again (multi-region, with log file validation) and start logging.', null),
  UpdateTrail: restore('restore-trail-settings', (e) => req(e, 'name'), 'Compare the trail with your baseline (bucket, multi-region, validation, KMS key) and restore it.', (v) => ['aws cloudtrail get-trail', ['--name', v, 'cloudTrailTrail']]),
  PutEventSelectors: restore('restore-event-selectors', (e) => req(e, 'trailName'), 'The trail may now skip management or data events: restore its event selectors.', (v) => ['aws cloudtrail get-event-selectors', ['--trail-name', v, 'cloudTrailTrail']]),
  DeleteDetector: restore('enable-guardduty', (e) => req(e, 'detectorId'), 'Enable GuardDuty again in this region.', () => ['aws guardduty create-detector --enable']),
  UpdateDetector: restore('enable-guardduty', (e) => req(e, 'detectorId'), 'Check the detector is enabled with its usual settings.', (v) => ['aws guardduty update-detector --enable', ['--detector-id', v, 'guardDutyDetectorId']]),
  DisassociateFromMasterAccount: restore('reassociate-guardduty', () => 'GuardDuty administrator link', 'Accept the administrator account invitation again.', null),
  DisassociateFromAdministratorAccount: restore('reassociate-guardduty', () => 'GuardDuty administrator link', 'Accept the administrator account invitation again.', null),
  CreateFilter: restore('delete-guardduty-filter', (e) => req(e, 'name'), 'A findings filter can archive findings automatically; delete it unless your team made it.', (v, e) => ['aws guardduty delete-filter', ['--detector-id', req(e, 'detectorId'), 'guardDutyDetectorId'], ['--filter-name', v, 'guardDutyFilterName']]),
  CreateIPSet: restore('delete-guardduty-ipset', (e) => req(e, 'name'), 'A trusted IP list silences findings from those addresses; delete it unless your team made it.', null),
  StopConfigurationRecorder: restore('start-config-recorder', (e) => req(e, 'configurationRecorderName'), 'Start the AWS Config recorder again.', (v) => ['aws configservice start-configuration-recorder', ['--configuration-recorder-name', v, 'configRecorderName']]),
  DeleteConfigurationRecorder: restore('recreate-config-recorder', (e) => req(e, 'configurationRecorderName'), 'Create the AWS Config recorder again and start it.', null),
  DeleteDeliveryChannel: restore('recreate-config-delivery-channel', (e) => req(e, 'deliveryChannelName'), 'Create the AWS Config delivery channel again.', null),
  DeleteFlowLogs: restore('recreate-flow-logs', (e) => stringsUnder(e.requestParameters, 'item').join(' ') || req(e, 'flowLogId'), 'Create the VPC flow logs again.', null),
  DisableSecurityHub: restore('enable-security-hub', () => 'Security Hub', 'Enable Security Hub again in this region.', () => ['aws securityhub enable-security-hub']),
  DeleteLogGroup: restore('recreate-log-group', (e) => req(e, 'logGroupName'), 'The group and its events are gone; recreate it and restore whatever delivered to it.', null),
  DeleteAlarms: restore('restore-alarms', (e) => stringsUnder(e.requestParameters, 'alarmNames').join(' ') || null, 'Recreate the alarms from your infrastructure code.', null),
  DisableAlarmActions: restore('enable-alarm-actions', (e) => stringsUnder(e.requestParameters, 'alarmNames').join(' ') || null, 'Turn the alarm actions back on.', null),
  DisableRule: restore('enable-eventbridge-rule', (e) => req(e, 'name'), 'Enable the rule again.', (v) => ['aws events enable-rule', ['--name', v, 'eventBridgeRuleName']]),
  DeleteModelInvocationLoggingConfiguration: restore('restore-bedrock-logging', () => 'Bedrock invocation logging', 'Put the invocation logging configuration back.', null),
  DeleteResolverQueryLogConfig: restore('restore-dns-query-logging', (e) => req(e, 'resolverQueryLogConfigId'), 'Recreate Route 53 Resolver query logging.', null),
};

const sharingRules: Record<string, Rule> = {
  ModifySnapshotAttribute: (e) => share(e, 'snapshotId', 'revoke-snapshot-sharing', 'EBS snapshot', (id, accounts) => ['aws ec2 modify-snapshot-attribute', ['--snapshot-id', id, 'ec2SnapshotId'], '--attribute createVolumePermission --operation-type remove', ...sharedWith(accounts, '--group-names')]),
  ModifyImageAttribute: (e) => share(e, 'imageId', 'revoke-image-sharing', 'AMI', (id, accounts) => ['aws ec2 modify-image-attribute', ['--image-id', id, 'ec2ImageId'], '--attribute launchPermission --operation-type remove', ...sharedWith(accounts, '--user-groups')]),
  ModifyDBSnapshotAttribute: (e) => share(e, 'dBSnapshotIdentifier', 'revoke-db-snapshot-sharing', 'RDS snapshot', (id, accounts) => ['aws rds modify-db-snapshot-attribute', ['--db-snapshot-identifier', id, 'rdsSnapshotId'], '--attribute-name restore', ['--values-to-remove', accounts, 'rdsRestoreValue']]),
  ModifyDBClusterSnapshotAttribute: (e) => share(e, 'dBClusterSnapshotIdentifier', 'revoke-db-snapshot-sharing', 'RDS cluster snapshot', (id, accounts) => ['aws rds modify-db-cluster-snapshot-attribute', ['--db-cluster-snapshot-identifier', id, 'rdsSnapshotId'], '--attribute-name restore', ['--values-to-remove', accounts, 'rdsRestoreValue']]),
  PutBucketPolicy: (e) => bucket(e, 'review-bucket-policy', 'its policy was replaced', 'aws s3api get-bucket-policy'),
  PutBucketAcl: (e) => bucket(e, 'review-bucket-acl', 'its ACL was changed', 'aws s3api get-bucket-acl'),
  DeleteBucketPublicAccessBlock: (e) => bucket(e, 'restore-public-access-block', 'its Block Public Access settings were removed', null),
  DeletePublicAccessBlock: (e) => bucket(e, 'restore-public-access-block', 'its Block Public Access settings were removed', null),
  PutResourcePolicy: (e) => {
    const id = req(e, 'secretId') ?? req(e, 'resourceArn');
    if (!id) return [];
    return [draft('shared-data', 'review-resource-policy', id, e.region, `A resource policy was put on ${id} by ${describedAs(e)}; it may share it with another account.`, null)];
  },
  CreateGrant: (e) => {
    const key = req(e, 'keyId');
    const grant = res(e, 'grantId');
    if (!key) return [];
    return [draft('shared-data', 'revoke-kms-grant', `${key} ${grant ?? ''}`.trim(), e.region, `A KMS grant on ${key} was created by ${describedAs(e)} for ${req(e, 'granteePrincipal') ?? 'an unknown grantee'}.`, command(['aws kms revoke-grant', ['--key-id', key, 'kmsKeyId'], ['--grant-id', grant, 'kmsGrantId'], regionArg(e)]))];
  },
};

/** The accounts to stop sharing with (`--user-ids`) and, for `all`, the public group; anything else fails the account id check. */
function sharedWith(accounts: readonly string[], groupOption: string): Array<string | Arg> {
  const users = accounts.filter((a) => a !== 'all');
  return [...(users.length ? [['--user-ids', users, 'accountId'] as const] : []), ...(users.length < accounts.length ? [`${groupOption} all`] : [])];
}

/**
 * The accounts (or `all`) a sharing call adds and removes: ModifySnapshotAttribute and
 * ModifyImageAttribute write `createVolumePermission` / `launchPermission` with `add` and
 * `remove` lists (older records: `operationType` and the ids beside it), the RDS calls
 * `valuesToAdd` and `valuesToRemove`.
 */
export function sharingChange(e: EvidenceEvent): { added: string[]; removed: string[] } {
  const rp = (e.requestParameters ?? {}) as Record<string, unknown>;
  const perm = (rp['createVolumePermission'] ?? rp['launchPermission']) as Record<string, unknown> | undefined;
  const ids = (v: unknown) => [...stringsUnder(v, 'userId'), ...stringsUnder(v, 'group')];
  let added: string[];
  let removed: string[];
  if (perm && typeof perm === 'object' && ('add' in perm || 'remove' in perm)) {
    added = ids(perm['add']);
    removed = ids(perm['remove']);
  } else {
    const operation = String(rp['operationType'] ?? 'add').toLowerCase();
    added = operation === 'remove' ? [] : ids(perm ?? rp);
    removed = operation === 'remove' ? ids(perm ?? rp) : [];
  }
  return { added: [...added, ...stringsUnder(rp, 'valuesToAdd')], removed: [...removed, ...stringsUnder(rp, 'valuesToRemove')] };
}

function share(e: EvidenceEvent, idKey: string, kind: string, what: string, cli: (id: string, accounts: string[]) => ReadonlyArray<string | Arg>): Draft[] {
  const id = req(e, idKey);
  if (!id) return [];
  const accounts = [...new Set(sharingChange(e).added)].sort();
  if (accounts.length === 0) return [];
  return [
    draft('shared-data', kind, id, e.region, `${what} ${id} was shared with ${accounts.join(', ')} by ${describedAs(e)}. Revoke the sharing; a copy already taken cannot be recalled.`, command([...cli(id, accounts), regionArg(e)])),
  ];
}

function bucket(e: EvidenceEvent, kind: string, what: string, cli: string | null): Draft[] {
  const name = req(e, 'bucketName');
  if (!name) return [];
  return [
    draft('shared-data', kind, name, e.region, `Bucket ${name}: ${what} by ${describedAs(e)}. Compare with your baseline and restore it; keep Block Public Access on.`, cli ? command([cli, ['--bucket', name, 's3BucketName']]) : null),
  ];
}

/** Calls that read data; the plan lists what they touched so the owners can judge the exposure. */
export const DATA_READS: Record<string, { readonly what: string; readonly keys: readonly string[] }> = {
  GetObject: { what: 'S3 object', keys: ['bucketName', 'key'] },
  GetSecretValue: { what: 'secret', keys: ['secretId'] },
  BatchGetSecretValue: { what: 'secrets', keys: ['secretIdList'] },
  GetParameter: { what: 'SSM parameter', keys: ['name'] },
  GetParameters: { what: 'SSM parameters', keys: ['names'] },
  GetPasswordData: { what: 'instance password', keys: ['instanceId'] },
  BatchGetImage: { what: 'container images (ECR repositories)', keys: ['repositoryName'] },
  GetDownloadUrlForLayer: { what: 'container images (ECR repositories)', keys: ['repositoryName'] },
  ExportTableToPointInTime: { what: 'DynamoDB export', keys: ['tableArn', 's3Bucket'] },
  CreateInstanceExportTask: { what: 'instance export', keys: ['instanceId'] },
  CopySnapshot: { what: 'snapshot copy', keys: ['sourceSnapshotId'] },
  DescribeInstanceAttribute: { what: 'instance user data', keys: ['instanceId'] },
};

/** All rules by event name. */
export const RULES: Record<string, Rule> = { ...iamRules, ...computeRules, ...loggingRules, ...sharingRules };

/** The actions one successful attacker event calls for (none for events that change nothing). */
export function actionsFor(event: EvidenceEvent): Draft[] {
  if (event.errorCode) return [];
  const rule = Object.prototype.hasOwnProperty.call(RULES, event.eventName) ? RULES[event.eventName] : undefined;
  return (rule?.(event) ?? []).map((d) => ({ ...d, account: d.account ?? event.account ?? accountOfArn(event.principalArn) }));
}
