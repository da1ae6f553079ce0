// Long-running commands (worker, dashboard, watch, serve) run until SIGTERM or SIGINT; this says
// which signal arrived and what is stopping, then lets the command close cleanly. `run` stops
// early on the first signal (interruptOnSignal) and exits at once on a second.

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

export interface Interrupt {
  /** Aborted on the first SIGINT/SIGTERM: the command winds down cleanly. */
  signal: AbortSignal;
  dispose(): void;
}

/**
 * For commands that stop early on Ctrl-C and still finish cleanly (`run`): the
 * first SIGINT/SIGTERM calls `onStop` and aborts the signal; a second one calls
 * `onForce` (which exits), for a user who will not wait for the jobs in hand.
 */
export function interruptOnSignal(onStop: (signal: string) => void, onForce: () => void): Interrupt {
  const controller = new AbortController();
  const handle = (signal: string) => {
    if (controller.signal.aborted) return onForce();
    onStop(signal);
    controller.abort();
  };
  const onTerm = () => handle('SIGTERM');
  const onInt = () => handle('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}
