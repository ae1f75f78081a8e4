import { runHub } from './node/hub.ts';
import { createNodeLogger } from './node/logger.ts';
import { isSupervisor, supervise } from './node/supervisor.ts';

// The process started supervises a worker that runs the hub (HUB_SUPERVISE=0: the hub alone).
if (isSupervisor()) {
  const level = process.env.LOG_LEVEL;
  supervise(createNodeLogger(level === 'debug' || level === 'warn' || level === 'error' ? level : 'info'));
} else {
  runHub().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
