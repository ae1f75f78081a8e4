import { createNodeLogger } from './node/logger.ts';
import { isSupervisor, supervise } from './node/supervisor.ts';

// The process started supervises a worker that runs the hub (HUB_SUPERVISE=0: the hub alone).
// The hub's modules are loaded by the worker only: the supervisor starts it without them.
if (isSupervisor()) {
  const level = process.env.LOG_LEVEL;
  supervise(createNodeLogger(level === 'debug' || level === 'warn' || level === 'error' ? level : 'info'));
} else {
  import('./node/hub.ts')
    .then(({ runHub }) => runHub())
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
