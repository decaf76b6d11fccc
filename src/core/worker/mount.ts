/**
 * A filesystem mount in containerd's form: what `mount -t TYPE -o OPTIONS SOURCE TARGET`
 * would do. Snapshotters return lists of them; executors and file ops mount them.
 */
export interface Mount {
  /** "overlay", "bind", "tmpfs", … */
  readonly type: string;
  readonly source: string;
  /** e.g. ["lowerdir=/a:/b", "upperdir=/c", "workdir=/d"], ["rbind", "ro"]. */
  readonly options: readonly string[];
}
