/**
 * A loopback HTTPS server with a certificate from a throw-away test CA (made with openssl), for
 * the https:// proxy tests. Squid's stock rules allow CONNECT to port 443 only, so the server
 * listens on 443 of a random 127.x.y.z address when this process may bind it (root, as in CI);
 * otherwise on a free port, and `port` tells the caller to let squid's SSL_ports allow it.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import type { RequestListener } from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface TlsServer {
  url: string;
  host: string;
  port: number;
  /** The test CA's certificate (PEM), to pass to the client. */
  ca: string;
  /** Paths of the requests it received. */
  paths: string[];
  close(): Promise<void>;
}

function makeCertificates(dir: string, host: string): { ca: string; key: string; cert: string } {
  const file = (name: string) => path.join(dir, name);
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  run(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=codecarbon test CA"].concat([
      "-keyout",
      file("ca.key"),
      "-out",
      file("ca.pem"),
    ]),
  );
  run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${host}`,
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  ]);
  fs.writeFileSync(file("ext.cnf"), `subjectAltName=IP:${host}\nbasicConstraints=CA:FALSE\n`);
  run(
    [
      "x509",
      "-req",
      "-in",
      file("server.csr"),
      "-CA",
      file("ca.pem"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
    ].concat(["-days", "2", "-extfile", file("ext.cnf"), "-out", file("server.pem")]),
  );
  return {
    ca: fs.readFileSync(file("ca.pem"), "utf8"),
    key: fs.readFileSync(file("server.key"), "utf8"),
    cert: fs.readFileSync(file("server.pem"), "utf8"),
  };
}

async function listen(server: https.Server, port: number, host: string): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.removeListener("listening", onListening);
      if (error.code === "EACCES" || error.code === "EADDRINUSE" || error.code === "EADDRNOTAVAIL") resolve(false);
      else reject(error);
    };
    const onListening = () => {
      server.removeListener("error", onError);
      resolve(true);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

export async function startTlsServer(): Promise<TlsServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-tls-"));
  const octet = () => 2 + Math.floor(Math.random() * 250);
  let host = `127.${octet()}.${octet()}.${octet()}`;
  const paths: string[] = [];
  let certificates = makeCertificates(dir, host);
  const handler: RequestListener = (req, res) => {
    paths.push(req.url ?? "/");
    req.resume();
    req.on("end", () => {
      // Connection: close ends the tunnel at once, so squid logs the CONNECT now rather than at keep-alive expiry.
      res.writeHead(200, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ ok: true, tls: true }));
    });
  };
  let server = https.createServer({ key: certificates.key, cert: certificates.cert }, handler);
  if (!(await listen(server, 443, host))) {
    host = "127.0.0.1";
    certificates = makeCertificates(dir, host);
    server = https.createServer({ key: certificates.key, cert: certificates.cert }, handler);
    await listen(server, 0, host);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://${host}${port === 443 ? "" : `:${port}`}`,
    host,
    port,
    ca: certificates.ca,
    paths,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
