// Long-running commands (worker, dashboard, watch, serve) run until SIGTERM or SIGINT; this says
// which signal arrived and what is stopping, then lets the command close cleanly.

/** Resolves on the first SIGTERM/SIGINT, logging `<signal> received: <doing>`. */
export function untilSignal(log: { info(m: string): void }, doing: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal} received: ${doing}`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
