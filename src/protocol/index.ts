/**
 * The contract between the tracker and the JupyterLab extension: the live feed, the kernel
 * command, the CSV format and the figure formatters. It imports nothing, so the browser build
 * uses these very files (staged into the extension by scripts/lab-extension/stage.js).
 */
export * from "./csv";
export * from "./format";
export * from "./kernel-command";
export * from "./live-feed";
export * from "./attribution";
export * from "./cells";
export * from "./units";
