// Long-running commands (dashboard, watch) run until SIGTERM or SIGINT; this says
// which signal arrived and what is stopping, then lets the command close cleanly.

/** Resolves on the first SIGTERM/SIGINT, logging `<signal> received: stopping <what>`. */
export function untilSignal(log: { info(m: string): void }, what: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal} received: stopping ${what}`);
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
