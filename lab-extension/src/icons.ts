import { LabIcon } from "@jupyterlab/ui-components";

/** A leaf; `jp-icon3` lets JupyterLab's themes colour it. */
const LEAF_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M17 8C8 10 5.9 16.17 3.82 21.34l1.89.66.95-2.3c.48.17.98.3 1.34.3C19 20 22 3 22 3c-1 2-8 2.25-13 3.25S2 11.5 2 13.5s1.75 3.75 1.75 3.75C7 8 17 8 17 8z"/></svg>`;

export const leafIcon = new LabIcon({ name: "codecarbon:leaf", svgstr: LEAF_SVG });
