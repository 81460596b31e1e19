/**
 * A remediation plan: what to do about a compromise, step by step in the order AWS's own
 * guidance gives, each action with its target, the evidence behind it and the aws-cli
 * command a responder would run. trailhound never runs any of them.
 */

/** The seven steps, in the order they should be worked. */
export type StepId =
  | 'exposed-keys'
  | 'temporary-credentials'
  | 'attacker-principals'
  | 'launched-resources'
  | 'logging'
  | 'shared-data'
  | 'account-hygiene';

/** An IAM policy document (the deny policies the plan generates). */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: ReadonlyArray<{
    readonly Sid: string;
    readonly Effect: 'Deny';
    readonly Action: '*';
    readonly Resource: '*';
    readonly Condition?: { readonly DateLessThan: { readonly 'aws:TokenIssueTime': string } };
  }>;
}

/** A value from the logs that failed the check for its kind, so its action has no command. */
export interface RejectedValue {
  readonly value: string;
  /** What the value should have been, e.g. `IAM user name`. */
  readonly kind: string;
}

/** One thing to do. */
export interface RemediationAction {
  readonly step: StepId;
  /** What kind of action, e.g. `deactivate-access-key`, `terminate-instances`. */
  readonly kind: string;
  /** The ARN, id or name acted on. */
  readonly target: string;
  readonly region: string | null;
  readonly account: string | null;
  /** Why, in one or two sentences, with what the evidence shows. */
  readonly reason: string;
  /** The event ids behind the action (empty for checks every incident needs). */
  readonly evidence: readonly string[];
  /** The aws-cli command that does it, or null when it needs a person (console, support case). */
  readonly command: string | null;
  /** Why there is no command when a value from the logs was not a valid one of its kind. */
  readonly rejected?: RejectedValue;
  /** The policy the command attaches, for actions that attach one. */
  readonly policy?: PolicyDocument;
  /** True for actions that only read (inventory, verification). */
  readonly readOnly?: boolean;
  /** The call in the evidence that already carried this action out (by the responder, or the attacker cleaning up). */
  readonly done?: DoneInEvidence;
  /** What the account snapshot shows: still to do, done, or unknown (no snapshot, or it could not see). */
  readonly state?: 'open' | 'done' | 'unknown';
  /** The snapshot (id and time) and what it shows, or why the state is unknown. */
  readonly stateEvidence?: string;
}

/** One step of the plan with its actions. */
export interface RemediationStep {
  readonly id: StepId;
  readonly number: number;
  readonly title: string;
  /** What the step is for and what to mind, in one or two sentences. */
  readonly guidance: string;
  readonly actions: readonly RemediationAction[];
}

/** A region and whether the evidence shows the attacker acting there. */
export interface RegionCheck {
  readonly region: string;
  readonly attackerActivity: boolean;
  readonly launches: number;
}

/** The whole plan. */
export interface RemediationPlan {
  /** The instant the deny policies cut temporary credentials at (the time of containment). */
  readonly containedAt: string;
  readonly accounts: readonly string[];
  /** The credentials the plan treats as exposed (pivots). */
  readonly exposedKeys: readonly string[];
  readonly steps: readonly RemediationStep[];
  /** Every region to inventory, attacker activity first. */
  readonly regions: readonly RegionCheck[];
  /** What the plan could not know, e.g. evidence gaps; one line each. */
  readonly caveats: readonly string[];
  /** The account snapshot the actions' states come from; null when the store holds none. */
  readonly snapshot?: { readonly id: string; readonly takenAt: string; readonly account: string | null } | null;
}

/** A successful call, after the one an action answers, that did what the action asks. */
export interface DoneInEvidence {
  readonly eventId: string;
  readonly eventName: string;
  readonly eventTime: string;
  readonly actor: string;
  readonly sourceIp: string | null;
}
