import { DefaultRenderer, ListrDefaultRendererLogLevels, Spinner } from "listr2";
import type { ListrDefaultRendererOptions, ListrDefaultRendererTask, ListrEventManager } from "listr2";
import type { Palette, Paint } from "./text.ts";
import { palette, truncate, width } from "./text.ts";

/**
 * listr2's default renderer, used for what it is good at: laying out the task tree (state icons,
 * the spinner, indentation, output bars, subtasks, error messages under failed tasks) from
 * listr2 Task objects. What it cannot do for a streaming display is replaced:
 *  - `render`/`update`/`end` do nothing. listr2 would redraw through log-update on every task
 *    change and on its own 100 ms spinner timer, take the stream's size once, and hijack
 *    process.stdout; the tty display instead asks for frames (`create()`) at its own rate and
 *    writes them with its Screen.
 *  - `style` gives a running task with subtasks the spinner, like any running task.
 *  - `format` lays rows out for the display's stream width (listr2 reads process.stdout's):
 *    a title `left\tright` gets `right` (state and duration) aligned to the right edge and `left`
 *    truncated to fit; every row is cut to `columns - 1` so that no row wraps.
 */
export interface Layout {
  columns: number;
  palette: Palette;
}

/** Titles carry `left\tright`; the renderer aligns `right` to the edge. */
export const ALIGN = "\t";

export class BuildRenderer extends DefaultRenderer {
  static override nonTTY = true;
  readonly #layout: Layout;
  readonly #spinner: Spinner | undefined;

  constructor(tasks: ListrDefaultRendererTask[], options: ListrDefaultRendererOptions, events: ListrEventManager, layout?: Layout) {
    super(tasks, options, events);
    this.#layout = layout ?? { columns: 80, palette: palette(true) };
    this.#spinner = options.spinner;
  }

  override async render(): Promise<void> {}
  override update(): void {}
  override end(): void {}

  /** A running task with subtasks spins too (listr2 shows a still pointer for it). */
  protected override style(task: ListrDefaultRendererTask, output = false): string {
    const glyph = this.#spinner?.fetch();
    if (!output && glyph !== undefined && task.isStarted() && task.hasSubtasks()) return this.#layout.palette.yellow(glyph);
    return super.style(task, output);
  }

  protected override format(message: string, icon: string, level: number): string[] {
    if (message.trim() === "") return [];
    const prefix = `${"  ".repeat(Math.max(0, level))}${icon ? `${icon} ` : ""}`;
    const room = this.#layout.columns - 1 - width(prefix);
    return message.split("\n").map((line) => prefix + this.#fit(line, room));
  }

  #fit(line: string, room: number): string {
    const tab = line.indexOf(ALIGN);
    if (tab < 0) return truncate(line, room);
    const left = line.slice(0, tab);
    const right = line.slice(tab + 1).trimEnd(); // listr2 appends a space to skipped tasks' titles
    const rightWidth = width(right);
    if (rightWidth + 2 > room) return truncate(`${left} ${right}`, room);
    const fitted = truncate(left, room - rightWidth - 1);
    return `${fitted}${" ".repeat(room - width(fitted) - rightWidth)}${paintState(right, this.#layout.palette)}`;
  }
}

/** The state word of a right-hand field in its colour, the rest (durations) dim. */
function paintState(right: string, p: Palette): string {
  const [word = "", ...rest] = right.split(" ");
  const paint: Paint | undefined = STATE_COLORS[word]?.(p);
  if (paint === undefined) return p.dim(right);
  return rest.length === 0 ? paint(word) : `${paint(word)} ${p.dim(rest.join(" "))}`;
}

const STATE_COLORS: Record<string, (p: Palette) => Paint> = {
  CACHED: (p) => p.blue,
  DONE: (p) => p.green,
  ERROR: (p) => p.red,
  CANCELED: (p) => p.yellow,
};

/** listr2's icon colours, from our palette (so NO_COLOR turns them off). */
export function iconColors(p: Palette): Partial<Record<ListrDefaultRendererLogLevels, (s?: string) => string>> {
  const L = ListrDefaultRendererLogLevels;
  const colors: Partial<Record<ListrDefaultRendererLogLevels, Paint>> = {
    [L.SKIPPED_WITH_COLLAPSE]: p.yellow,
    [L.SKIPPED_WITHOUT_COLLAPSE]: p.yellow,
    [L.OUTPUT]: p.dim,
    [L.OUTPUT_WITH_BOTTOMBAR]: p.dim,
    [L.PENDING]: p.yellow,
    [L.COMPLETED]: p.green,
    [L.COMPLETED_WITH_FAILED_SUBTASKS]: p.yellow,
    [L.COMPLETED_WITH_FAILED_SISTER_TASKS]: p.red,
    [L.RETRY]: p.yellow,
    [L.ROLLING_BACK]: p.red,
    [L.ROLLED_BACK]: p.red,
    [L.FAILED]: p.red,
    [L.FAILED_WITH_FAILED_SUBTASKS]: p.red,
    [L.WAITING]: p.dim,
    [L.PAUSED]: p.yellow,
  };
  return Object.fromEntries(Object.entries(colors).map(([level, paint]) => [level, (s = "") => paint(s)]));
}

/** A spinner that moves only when the display draws a frame (listr2's runs on its own timer). */
export class FrameSpinner extends Spinner {
  override start(): void {}
  override stop(): void {}
}
