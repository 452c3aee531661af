/**
 * `dstack upgrade VM IMAGE`: the app's docker-compose with only the image of its single service
 * replaced — command, ports, environment and the rest stay as they were. An app of several
 * services has no one image to replace: it is upgraded with -c.
 */
import { isMap, parseDocument } from "yaml";
import { UsageError } from "../errors.ts";

export function withImage(dockerCompose: string, image: string, vmName: string): string {
  const doc = parseDocument(dockerCompose);
  const services = doc.get("services");
  const names = isMap(services) ? services.items.map((i) => String((i.key as { value?: unknown })?.value ?? i.key)) : [];
  if (names.length !== 1) {
    throw new UsageError(`${vmName} runs ${names.length} services (${names.join(", ") || "none found"}): a new IMAGE is ambiguous`, {
      hint: `upgrade it with a compose file: dstack upgrade ${vmName} -c docker-compose.yaml`,
    });
  }
  doc.setIn(["services", names[0]!, "image"], image);
  return doc.toString();
}
