// `sluice ingest s3://bucket/prefix`: one pass over a prefix, queueing every
// object by its version (ETag and size) without downloading it. No state is
// kept and nothing is deleted: `sluice watch` follows a prefix over time.
import type { Config } from '../config.ts';
import type { HashedItem } from '../queue/producer.ts';
import { ignoreRules } from './ignore.ts';
import { listS3, parseS3Uri, s3VersionHash } from './s3.ts';

/** Every object under the given s3:// prefixes, ready for ingestHashed. */
export async function listS3Inputs(config: Config, uris: string[]): Promise<HashedItem[]> {
  const rules = ignoreRules();
  const items: HashedItem[] = [];
  for (const uri of uris) {
    const loc = parseS3Uri(uri);
    for await (const page of listS3(config, loc)) {
      for (const o of page) {
        if (rules.ignoresFile(o.key.slice(loc.key.length).replace(/^\/+/, ''))) continue;
        const hash = o.size > config.maxFileBytes ? undefined : s3VersionHash(o.etag ?? '', o.size);
        items.push({ uri: o.uri, bytes: o.size, hash });
      }
    }
  }
  return items;
}
