import { SingleBar, Presets } from 'cli-progress';

const BAR_THRESHOLD = 50_000;

/** A progress bar on an interactive terminal for large counts; silent otherwise. */
export function progressReporter(total: number, allowed: boolean) {
  if (!allowed || total < BAR_THRESHOLD || !process.stdout.isTTY) {
    return { update: () => undefined, stop: () => undefined };
  }
  const bar = new SingleBar({ format: 'seeding [{bar}] {percentage}% | {value}/{total} events | {eta}s left' }, Presets.shades_classic);
  bar.start(total, 0);
  return { update: (inserted: number) => bar.update(inserted), stop: () => bar.stop() };
}
