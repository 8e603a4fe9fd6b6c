/** Starts the run's JupyterLab (see lab-server.js) and hands its address to the tests. */
const { startLab } = require("./lab-server") as {
  startLab(options?: {
    withExtension?: boolean;
  }): Promise<{ url: string; token: string; root: string; work: string; settingsDir: string; stop(): Promise<void> }>;
};

export default async function globalSetup(): Promise<() => Promise<void>> {
  const lab = await startLab();
  Object.assign(process.env, {
    CC_UI_URL: lab.url,
    CC_UI_TOKEN: lab.token,
    CC_UI_WORK: lab.work,
    CC_UI_ROOT: lab.root,
  });
  return () => lab.stop();
}
