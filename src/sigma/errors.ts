import { ExitCode, TrailhoundError } from '../core/errors.js';

/**
 * A Sigma rule that trailhound cannot run as written: bad YAML, a missing field, another
 * logsource, a modifier or condition form it does not translate. The message is the reason
 * listed for the rule; the other rules still run.
 */
export class SigmaUnsupportedError extends TrailhoundError {
  constructor(message: string, options?: ErrorOptions) {
    super('SIGMA_UNSUPPORTED', message, ExitCode.usage, options);
  }
}
