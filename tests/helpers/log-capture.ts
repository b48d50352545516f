import { createLogger, type Logger } from "../../src/logger";

export interface CapturedLogs {
  logger: Logger;
  /** Every line written so far, as written. */
  text(): string;
  /** Every line written so far, parsed. */
  records(): Record<string, any>[];
}

/** A real pino logger (with the service's redaction and serializers) writing into memory. */
export function captureLogs(level = "info"): CapturedLogs {
  const lines: string[] = [];
  const destination = {
    write(chunk: string) {
      lines.push(...chunk.split("\n").filter(Boolean));
    },
  };
  return {
    logger: createLogger({ level, destination }),
    text: () => lines.join("\n"),
    records: () => lines.map((line) => JSON.parse(line) as Record<string, any>),
  };
}
