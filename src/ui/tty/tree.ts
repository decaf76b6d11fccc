import { safeError } from "../sanitize.ts";
import { Listr, ListrTaskState } from "listr2";
import type { ListrDefaultRendererOptions, ListrTaskObject } from "listr2";
import type { Digest } from "../../core/digest.ts";
import type { VertexState } from "../../core/progress/collector.ts";
import type { Layout } from "./renderer.ts";
import { BuildRenderer, FrameSpinner, iconColors } from "./renderer.ts";
import type { RowState, VertexRow } from "./rows.ts";
import { statusRow, vertexRow, warningRow } from "./rows.ts";

/**
 * The build as a listr2 task list: one task per started vertex (in start order) whose title,
 * state and output follow the vertex, and one subtask per status. listr2 runs tasks itself
 * (`Listr.run()` takes a fixed list and owns the terminal), but a build's vertices are only known
 * as events arrive, so the tasks here are never run: they are added with `Listr.add` and moved
 * through their states with listr2's own setters (`state$`, `title$`, `output$`, `message$`),
 * and the renderer draws them. Running steps show their last log lines as the task's output.
 */
type Renderer = typeof BuildRenderer;
type Task = ListrTaskObject<object, Renderer, Renderer>;

interface Row {
  readonly task: Task;
  readonly statuses: Map<string, Task>;
  /** One task per warning, after the statuses (BuildKit's display lists them so). */
  readonly warnings: Task[];
  sub?: Listr<object, Renderer, Renderer>;
  /** The task was drawn once: listr2 listens for its output only from then on. */
  drawn: boolean;
  /** The output set on the task, and the one it should have (set once it is drawn). */
  output: string;
  wanted: string;
  error?: string;
}

export interface TreeView {
  readonly vertices: readonly VertexState[];
  readonly now: number;
  rate(vertex: Digest, id: string): number | undefined;
}

const TASK_STATE: Record<RowState, ListrTaskState> = {
  running: ListrTaskState.STARTED,
  done: ListrTaskState.COMPLETED,
  cached: ListrTaskState.COMPLETED,
  error: ListrTaskState.FAILED,
  canceled: ListrTaskState.SKIPPED,
};

const noop = (): void => {};

export class TaskTree {
  readonly #spinner = new FrameSpinner();
  readonly #options: ListrDefaultRendererOptions;
  readonly #listr: Listr<object, Renderer, Renderer>;
  readonly #renderer: BuildRenderer;
  readonly #rows = new Map<Digest, Row>();
  readonly #checks: Promise<unknown>[] = [];
  readonly #logLines: number;

  constructor(layout: Layout, opts: { logLines: number }) {
    this.#logLines = opts.logLines;
    this.#options = {
      indentation: 2,
      formatOutput: "truncate",
      showSubtasks: true,
      collapseSubtasks: false,
      collapseErrors: false,
      showErrorMessage: true,
      collapseSkips: true,
      showSkipMessage: false,
      suffixSkips: false,
      removeEmptyLines: true,
      spinner: this.#spinner,
      color: iconColors(layout.palette),
    };
    this.#listr = this.#newListr();
    this.#renderer = new BuildRenderer(this.#listr.tasks, this.#options, this.#listr.events, layout);
  }

  /**
   * Brings the tasks up to date with the vertices (those started or finished). New tasks are
   * drawn from the next macrotask on (listr2 enables a task asynchronously).
   */
  sync(view: TreeView): void {
    for (const v of view.vertices) {
      if (v.started === undefined && v.completed === undefined) continue;
      this.#syncVertex(v, view);
    }
  }

  /** Whether the vertex and each of its statuses have their task. */
  has(v: VertexState): boolean {
    const row = this.#rows.get(v.digest);
    return row !== undefined && row.statuses.size === v.statuses.size && row.warnings.length === v.warnings.length;
  }

  /** Advances the spinner by one frame. */
  spin(): void {
    this.#spinner.spin();
  }

  /** Resolves once every task is ready to be drawn (listr2 enables tasks asynchronously). */
  async ready(): Promise<void> {
    await Promise.all(this.#checks);
  }

  /** The tree as screen rows. */
  lines(): string[] {
    let text = this.#create();
    // A task drawn for the first time gets its output now, and is drawn again with it.
    let again = false;
    for (const row of this.#rows.values()) {
      if (row.drawn || !row.task.isEnabled()) continue;
      row.drawn = true;
      again = this.#setOutput(row) || again;
    }
    if (again) text = this.#create();
    return text === "" ? [] : text.split("\n");
  }

  #create(): string {
    return this.#renderer.create({ tasks: true, bottomBar: false, prompt: false });
  }

  #setOutput(row: Row): boolean {
    if (!row.drawn || row.wanted === row.output) return false;
    row.output = row.wanted;
    row.task.output$ = row.wanted;
    return true;
  }

  #newListr(parent?: Task): Listr<object, Renderer, Renderer> {
    const options = {
      renderer: BuildRenderer,
      fallbackRenderer: BuildRenderer,
      rendererOptions: this.#options,
      fallbackRendererOptions: this.#options,
      registerSignalListeners: false,
      exitOnError: false,
      concurrent: true,
    };
    return new Listr<object, Renderer, Renderer>([], options, parent);
  }

  #addTask(listr: Listr<object, Renderer, Renderer>, title: string): Task {
    // persistentOutput keeps listr2 from dropping (and re-listening for) a finished task's output buffer every frame.
    listr.add({ title, task: noop, rendererOptions: { outputBar: 1, persistentOutput: true } });
    const task = listr.tasks.at(-1);
    if (task === undefined) throw new Error("listr2 did not add the task");
    this.#checks.push(task.check({}));
    return task;
  }

  #syncVertex(v: VertexState, view: TreeView): void {
    const r = vertexRow(v, view.now, this.#logLines);
    let row = this.#rows.get(v.digest);
    if (row === undefined) {
      row = { task: this.#addTask(this.#listr, r.title), statuses: new Map(), warnings: [], drawn: false, output: "", wanted: "" };
      this.#rows.set(v.digest, row);
    }
    this.#syncStatuses(row, v, view, r.state !== "running");
    this.#syncWarnings(row, v);
    this.#apply(row, r);
  }

  #syncWarnings(row: Row, v: VertexState): void {
    for (const w of v.warnings.slice(row.warnings.length)) {
      const task = this.#addTask(this.#sub(row), warningRow(w));
      task.state$ = ListrTaskState.COMPLETED;
      row.warnings.push(task);
    }
  }

  #sub(row: Row): Listr<object, Renderer, Renderer> {
    if (row.sub === undefined) {
      row.sub = this.#newListr(row.task);
      row.task.subtasks = row.sub.tasks;
    }
    return row.sub;
  }

  #apply(row: Row, r: VertexRow): void {
    const { task } = row;
    if (r.error !== undefined && r.error !== row.error) {
      row.error = r.error;
      task.message$ = { error: safeError(r.error) };
    }
    if (task.title !== r.title) task.title$ = r.title;
    row.wanted = r.logs.join("\n");
    this.#setOutput(row);
    const state = TASK_STATE[r.state];
    if (task.state !== state) task.state$ = state;
  }

  #syncStatuses(row: Row, v: VertexState, view: TreeView, vertexFinished: boolean): void {
    for (const s of v.statuses.values()) {
      const r = statusRow(s, { now: view.now, rate: view.rate(v.digest, s.id), vertexFinished });
      let task = row.statuses.get(s.id);
      if (task === undefined) {
        task = this.#addTask(this.#sub(row), r.title);
        row.statuses.set(s.id, task);
      }
      if (task.title !== r.title) task.title$ = r.title;
      const state = r.done ? ListrTaskState.COMPLETED : ListrTaskState.STARTED;
      if (task.state !== state) task.state$ = state;
    }
  }
}
