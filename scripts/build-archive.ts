/**
 * `npm run build` (and so `npm pack`, and an install from git): builds the receiver's deployable
 * archive into dist/, where an installed copy of the package, which has neither the receiver's
 * TypeScript nor the tools to bundle it, finds it (infra/archive.ts, receiverSource).
 */
import {
  buildReceiverSource,
  DEFAULT_SOURCE_OPTIONS,
  PREBUILT_ARCHIVE_DIR,
  writePrebuiltArchive,
} from '../infra/archive.ts';

const archive = buildReceiverSource(DEFAULT_SOURCE_OPTIONS);
writePrebuiltArchive(archive);
process.stdout.write(`receiver archive ${archive.objectName} written to ${PREBUILT_ARCHIVE_DIR}\n`);
