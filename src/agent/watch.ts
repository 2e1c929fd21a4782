import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** The link kubelet's atomic writer renames into place on every update of a ConfigMap or Secret volume. */
const KUBELET_DATA_LINK = '..data';

export interface ConfigWatch {
  close(): void;
}

/**
 * Calls `onChange` soon after the config changes; the agent's interval re-read is the backstop
 * for every change a watch misses (network file systems, inotify limits). A file is watched
 * through its directory, by name: editors and `kubectl cp` replace a file by renaming another
 * over it, which a watch on the file's own inode would never see again. A ConfigMap directory is
 * watched itself: kubelet's update is a rename of `..data_tmp` over `..data` inside it
 * (pkg/volume/util/atomic_writer.go), one event there. A file that is one key of such a volume
 * (`--config /etc/cfg/filters.yaml`, a `filters.yaml -> ..data/filters.yaml` link) changes with
 * no event on its own name: kubelet leaves the key's link alone and swaps `..data` under it
 * (AtomicWriter.Write steps 8-9; its doc says consumers should watch `..data`), so an event on
 * `..data` in the file's directory counts as a change of the file too. Bursts are folded into
 * one call.
 */
export async function watchConfig(path: string, onChange: () => void, onError: (err: Error) => void, debounceMs = 100): Promise<ConfigWatch> {
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  const watched = isDir ? path : dirname(path);
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const fire = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
    timer.unref();
  };
  try {
    watcher = watch(watched, { persistent: false }, (_event, file) => {
      if (isDir || file === null || file === name || file === KUBELET_DATA_LINK) fire();
    });
    watcher.on('error', (err) => onError(err));
  } catch (err) {
    onError(err as Error);
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
