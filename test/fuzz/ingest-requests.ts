/**
 * Requests for the ingest URL, `POST /pull/{token}`: valid webhooks of any bytes, content type,
 * query string and headers, signed or carrying a static token where the inbox asks for one; and
 * webhooks broken in one way, each with the status and the rejection record its defect calls for.
 */
import fc from 'fast-check';
import type { Fixtures } from './fixtures';
import type { Inbox } from './inboxes';
import { knownBugDefect } from './known-bugs';
import { encodingDefects, oversizedDefects, routeDefects, signatureDefects, staticTokenDefects, tokenDefects } from './ingest-defects';
import { ingestDraft, unknownToken, type IngestBroken, type IngestTarget } from './ingest-drafts';
import type { Operation } from './openapi';
import { finish, type FuzzRequest } from './requests';

function validTarget(fx: Fixtures): fc.Arbitrary<IngestTarget> {
  const others = [fx.main, fx.paused, fx.received, fx.foreign, ...fx.disposable];
  return fc.oneof<fc.WeightedArbitrary<IngestTarget>[]>(
    { weight: 10, arbitrary: fc.constantFrom(...fx.inboxes).map((inbox) => ({ inbox, token: inbox.token, expected: [inbox.answers] })) },
    // Valid requests may have paused, reconfigured or rotated these: any declared answer goes.
    { weight: 2, arbitrary: fc.constantFrom(...others).map((endpoint) => ({ inbox: undefined, token: endpoint.token, expected: undefined })) },
    { weight: 1, arbitrary: fc.constant<IngestTarget>({ inbox: undefined, token: fx.deleted.token, expected: [401] }) },
    { weight: 1, arbitrary: unknownToken.map((token) => ({ inbox: undefined, token, expected: [401] })) },
  );
}

export function validIngestRequest(operation: Operation, fx: Fixtures): fc.Arbitrary<FuzzRequest> {
  return ingestDraft(validTarget(fx)).map(({ draft, target }) => finish('valid', operation, draft, target.expected && { expected: target.expected }));
}

/** Inboxes every check of which a webhook can pass (not the one whose allowlist excludes the fuzz). */
function invalidTarget(fx: Fixtures): fc.Arbitrary<IngestTarget> {
  const reachable = fx.inboxes.filter((inbox) => inbox.answers !== 403);
  const signed = reachable.filter((inbox) => inbox.signing);
  const guarded = reachable.filter((inbox) => inbox.signing || inbox.staticToken);
  const toTarget = (inbox: Inbox): IngestTarget => ({ inbox, token: inbox.token, expected: [inbox.answers] });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...reachable).map(toTarget) },
    { weight: 2, arbitrary: fc.constantFrom(...signed).map(toTarget) },
    { weight: 1, arbitrary: fc.constantFrom(...guarded).map(toTarget) },
  );
}

export function invalidIngestRequest(operation: Operation, fx: Fixtures): fc.Arbitrary<FuzzRequest> {
  return ingestDraft(invalidTarget(fx)).chain((valid) => {
    const { inbox } = valid.target;
    const defects: fc.WeightedArbitrary<IngestBroken>[] = [
      { weight: 2, arbitrary: tokenDefects(valid, fx) },
      { weight: 1, arbitrary: encodingDefects(valid.draft) },
      { weight: 1, arbitrary: oversizedDefects(valid) },
      { weight: 1, arbitrary: routeDefects(valid) },
    ];
    if (inbox?.signing) defects.push({ weight: 6, arbitrary: signatureDefects(valid.draft, inbox.signing, valid.parts) });
    if (inbox?.staticToken) defects.push({ weight: 4, arbitrary: staticTokenDefects(valid, inbox.staticToken) });
    return fc.oneof(...defects).filter(({ defect }) => !knownBugDefect(operation, defect)).map(({ draft, defect, expected, reasons }) => {
      // A paused endpoint may refuse for that first: 503, recorded as `paused`.
      const paused = inbox?.answers === 503 && reasons !== undefined;
      return finish('invalid', operation, draft, {
        defect,
        expected: paused ? [...expected, 503] : expected,
        rejection: reasons && inbox && { endpointId: inbox.id, reasons: paused ? [...reasons, 'paused'] : reasons },
      });
    });
  });
}
