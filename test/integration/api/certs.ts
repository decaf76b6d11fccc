// Test TLS material made with openssl: a CA, a server certificate for localhost/127.0.0.1 and
// a client certificate, all signed by that CA; plus a second CA that signed nothing of ours.
import { $ } from "bun";
import { join } from "node:path";
import { readFileSync } from "node:fs";

export interface TestCerts {
  readonly dir: string;
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed neither certificate. */
  readonly otherCa: string;
}

/** Writes the certificates into dir (which the caller removes). */
export async function makeCerts(dir: string): Promise<TestCerts> {
  const p = (f: string) => join(dir, f);
  const days = "2";
  for (const ca of ["ca", "other-ca"]) {
    await $`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days ${days} -subj /CN=test-${ca} -keyout ${p(`${ca}.key`)} -out ${p(`${ca}.pem`)}`.quiet();
  }
  const sign = async (name: string, subject: string, ext: string) => {
    await $`openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj ${subject} -keyout ${p(`${name}.key`)} -out ${p(`${name}.csr`)}`.quiet();
    await Bun.write(p(`${name}.ext`), ext);
    await $`openssl x509 -req -in ${p(`${name}.csr`)} -CA ${p("ca.pem")} -CAkey ${p("ca.key")} -CAcreateserial -days ${days} -extfile ${p(`${name}.ext`)} -out ${p(`${name}.pem`)}`.quiet();
  };
  await sign("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  await sign("client", "/CN=test-client", "extendedKeyUsage=clientAuth\n");
  const read = (f: string) => readFileSync(p(f), "utf8");
  return {
    dir,
    caPath: p("ca.pem"),
    certPath: p("server.pem"),
    keyPath: p("server.key"),
    clientCertPath: p("client.pem"),
    clientKeyPath: p("client.key"),
    ca: read("ca.pem"),
    cert: read("server.pem"),
    key: read("server.key"),
    clientCert: read("client.pem"),
    clientKey: read("client.key"),
    otherCa: read("other-ca.pem"),
  };
}
