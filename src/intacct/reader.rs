//! Object reads, on top of the client's calls: what a read asks for ([`ReadRequest`]), what it
//! hands over ([`Page`], [`ReadProgress`]), and [`IntacctClient::read_object`], which runs one
//! read — pages of one object over one window, in passes — as a task feeding an
//! [`ObjectRead`].
//!
//! Pages go over a bounded channel, so a slow consumer slows the reads instead of filling
//! memory; a page carries its raw response body only when the request asks
//! ([`ReadRequest::keep_raw`]), so reads that do not keep raw pages hold no body past parsing.
//!
//! A `query` pass reads keyset chains over RECORDNO ranges. With [`ReadRequest::slices`] = 1
//! it is one chain, page after page, each page carrying the position a later read can resume
//! from. With more, once the first page shows that more than two pages follow (its
//! `numremaining`, or no count at all), one extra request asks
//! for the pass's highest RECORDNO (`orderby RECORDNO descending`, one row), and the rest of
//! the pass is split into that many ranges read at once (`RECORDNO > a AND RECORDNO <= b`),
//! sharing the company's concurrency limit with every other read: one chain is strictly
//! sequential, so a large object read as one chain leaves request slots idle while it runs.
//! When a chain ends, the widest unfinished one is split again at its next page, so the
//! chains finish together. The ranges are disjoint and cover everything after the first
//! page (the last one has no upper end, so a row past the probed highest key is still read),
//! so no row is read twice or skipped. Pages of a sliced read arrive in no key order and
//! carry no resume position. A gateway that refuses the descending probe leaves the pass
//! one chain; the probe is a guess at no cost to correctness (Sage documents `orderby`
//! with `descending` on any field; a RECORDNO sort is served by the primary key).
//!
//! Every pass also keeps the client's page rules: a page never lists a key twice, a full
//! page must move its chain's cursor, fields `query` refuses are dropped once per read, and a
//! page that times out is asked for again half as big.
//!
//! # Reads
//!
//! A `query` pass reads a closed window `[from, to)` of the watermark field in RECORDNO order
//! (`paging` owns the cursor, `reader` the passes and chains). The sort is on the primary key,
//! which the gateway serves on objects of any size: a sort on WHENMODIFIED times out on large
//! line objects, and the simulator refuses one past 20,000 records with `DL02000001`.
//! * Fields `lookup` lists but `query` refuses ("The following fields cannot be queried: …")
//!   are kept out of the select by a per-object deny list ([`objects::not_queryable`]); any
//!   other field the gateway refuses by name is dropped, the page sent once more, and the
//!   decision kept for the run; the run report lists them as `refused_fields`.
//! * A page that still times out (timeout, 524, `DL02000001`) is asked again at half the
//!   size, down to 100 rows, before the read gives up; a full page that does not advance the
//!   keyset cursor is an error, never a loop.
//! * `readByQuery`/`readMore` is the per-object fallback (`method = "readByQuery"`); an
//!   expired resultId restarts the pass, and the MERGE removes the repeats.
//!
//! # Concurrency
//!
//! `intacct.max_concurrent_requests` (default 2) HTTP requests are in flight per company,
//! shared by every object and backfill window. One keyset chain is strictly sequential, so a
//! large object read as one chain would leave the other slots idle for most of a first run. A
//! nightly window (the initial load included) therefore reads each object as up to
//! `max_concurrent_requests + 1` RECORDNO slices at once ([`ReadRequest::slices`]; `reader`
//! says how they split). Backfill windows read one chain: their pages carry the position the
//! batch checkpoints and resumes from (pages of a sliced read interleave, so none is safe), and
//! several windows keep the slots busy instead.

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use std::sync::Arc;

use crate::error::FailureClass;
use crate::error::{Error, Result};
use crate::intacct::client::{CallOptions, IntacctClient, malformed, page_kind};
use crate::intacct::ledger::{Charge, Tally, TransactionCounts, TransactionKind};
use crate::intacct::names::column_name;
use crate::intacct::objects;
use crate::intacct::paging::{
    Cursor, KeyFields, PageOrder, Pass, RecordKey, TimeWindow, check_progress, cursor_after,
    highest_key_query, is_last_page, key_at_most, keyset_filter, keyset_query, read_by_query,
    restrict,
};
use crate::intacct::request::{Call, Filter};
use crate::intacct::response::{IntacctFailure, RecordPage, ResultData};
use crate::intacct::transport::is_page_too_big;

/// Which gateway function reads the pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadMethod {
    /// `query` with a keyset on (timestamp, RECORDNO): ordered, resumable, page size ≤ 2000.
    #[default]
    Query,
    /// `readByQuery` + `readMore` (page size ≤ 1000, no order), for objects `query` refuses.
    ReadByQuery,
}

/// One object over one time window.
#[derive(Clone, Debug)]
pub struct ReadRequest {
    /// Object name, e.g. `APBILL`.
    pub object: String,
    /// Fields to select; `None` means every field `lookup` lists. The key fields (RECORDNO,
    /// WHENMODIFIED, WHENCREATED) are always added.
    pub fields: Option<Vec<String>>,
    /// `[from, to)` on WHENMODIFIED (WHENCREATED when WHENMODIFIED is empty).
    pub window: TimeWindow,
    /// Rows per page: ≤ 2000 for `query`, ≤ 1000 for `readByQuery` (clamped).
    pub page_size: u32,
    /// `query` or `readByQuery`.
    pub method: ReadMethod,
    /// Names the batch in controlids, for tracing.
    pub batch_label: String,
    /// The fields the object is paged by ([`KeyFields::for_object`] by default).
    pub keys: KeyFields,
    /// A condition every row must also meet, ANDed into each page's keyset filter (e.g. the
    /// delete feed's `ACCESSMODE = 'D' AND OBJECTTYPE = 'apbill'` on AUDITHISTORY). `query`
    /// only: a `readByQuery` read with a condition fails with [`Error::InvalidRequest`].
    pub condition: Option<Filter>,
    /// Hand each page's raw response body over in [`Page::raw`] (for keeping raw pages).
    pub keep_raw: bool,
    /// Start after this position (a page's [`Page::cursor_after`] from an interrupted read of
    /// the same window): earlier passes are skipped, the pass it names starts after it.
    /// `query` only.
    pub resume_after: Option<Cursor>,
    /// Keyset chains read at once per pass (default 1): more split a pass that holds more
    /// than a page into RECORDNO ranges read side by side, so one large object keeps every
    /// request slot busy. Pages of a sliced read carry no [`Page::cursor_after`], so a read
    /// that records its position to resume from keeps 1. `query` on RECORDNO-ordered
    /// objects only; others read one chain whatever this says.
    pub slices: u32,
    /// Attempts at most this many for a page the gateway answers with its generic
    /// `DL02000001` "There was an error processing the request." before the page is asked
    /// for again at half the size (`None`: the client's retry policy decides). A read that
    /// fails the same way every time at its size (AUDITHISTORY over too wide a window) gets
    /// smaller pages after a few seconds instead of after the whole retry budget.
    pub generic_error_attempts: Option<u32>,
}

impl ReadRequest {
    /// A `query` read of every field, 2000 rows a page.
    pub fn new(
        object: impl Into<String>,
        window: TimeWindow,
        batch_label: impl Into<String>,
    ) -> Self {
        let object = object.into();
        ReadRequest {
            keys: KeyFields::for_object(&object),
            object,
            fields: None,
            window,
            page_size: 2_000,
            method: ReadMethod::Query,
            batch_label: batch_label.into(),
            condition: None,
            keep_raw: false,
            resume_after: None,
            slices: 1,
            generic_error_attempts: None,
        }
    }
}

/// One page of one object.
#[derive(Debug)]
pub struct Page {
    /// The object.
    pub object: String,
    /// 1-based, counted over both passes.
    pub page_no: u64,
    /// Which pass it belongs to.
    pub pass: Pass,
    /// The records.
    pub records: RecordPage,
    /// Rows the pass matched in all, when the gateway said (first page of a pass).
    pub total_count: Option<u64>,
    /// The keyset position after this page (`query` read as one chain only: `readByQuery`
    /// has no order, and the pages of a sliced read interleave, so no position is safe to
    /// resume from).
    pub cursor_after: Option<Cursor>,
    /// The response body this page was parsed from, exactly as received; `Some` only when
    /// the request set [`ReadRequest::keep_raw`].
    pub raw: Option<Bytes>,
}

/// Progress of one object read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadProgress {
    /// Pages delivered.
    pub pages: u64,
    /// Records delivered.
    pub records: u64,
    /// Records expected in all, summed over the passes whose first page has arrived.
    pub total_count: Option<u64>,
    /// True once the read ended (successfully or not).
    pub finished: bool,
    /// Requests the read sent (each a billable transaction; retries and probes included),
    /// by kind.
    pub transactions: TransactionCounts,
}

/// A running object read.
#[derive(Debug)]
pub struct ObjectRead {
    /// Pages in order; an `Err` is the last item. The channel closes when the read ends.
    pub pages: mpsc::Receiver<Result<Page>>,
    /// Progress, updated after each delivered page.
    pub progress: watch::Receiver<ReadProgress>,
    /// The reading task; dropping `pages` stops it at its next page.
    pub task: JoinHandle<()>,
}

impl ObjectRead {
    /// Waits for the reading task once its pages have run out. The page channel also closes
    /// when the task dies (a panic, a cancel), so only this tells a finished read from a
    /// truncated one: anything but a clean end is [`Error::ReadIncomplete`], and the batch
    /// fails rather than stage part of its window as the whole.
    pub async fn finish(self, object: &str) -> Result<()> {
        match self.task.await {
            Ok(()) if self.progress.borrow().finished => Ok(()),
            Ok(()) => Err(Error::ReadIncomplete {
                object: object.to_owned(),
                message: "the reader stopped before the end of the window".into(),
            }),
            Err(e) => Err(Error::ReadIncomplete {
                object: object.to_owned(),
                message: if e.is_panic() {
                    "the reader panicked".into()
                } else {
                    "the reader was cancelled".into()
                },
            }),
        }
    }
}

impl IntacctClient {
    /// Starts reading one object over one window; pages arrive on [`ObjectRead::pages`].
    pub fn read_object(&self, request: ReadRequest) -> ObjectRead {
        let (pages_tx, pages) = mpsc::channel(self.page_buffer());
        let (progress_tx, progress) = watch::channel(ReadProgress::default());
        let client = self.clone();
        let task = tokio::spawn(read(client, request, pages_tx, progress_tx));
        ObjectRead {
            pages,
            progress,
            task,
        }
    }
}

/// Sets the field the empty-WHENMODIFIED pass pages on from the object's `lookup` types
/// ([`objects::creation_field`]): APBILL's WHENCREATED is a DATE (the bill date) and its
/// creation timestamp is AUWHENCREATED; an object with neither as a TIMESTAMP gets no such
/// pass. Reads without that pass (AUDITHISTORY) are left alone.
async fn resolve_creation_field(client: &IntacctClient, request: &mut ReadRequest) -> Result<()> {
    if request.keys.created.is_none() {
        return Ok(());
    }
    let meta = client.lookup(&request.object).await?;
    let created = objects::creation_field(&meta);
    if created.as_deref() != request.keys.created.as_deref() {
        tracing::info!(object = %request.object, field = ?created, "empty-WHENMODIFIED pass pages on the object's creation timestamp");
    }
    request.keys.created = created;
    Ok(())
}

/// How often one object's `readByQuery` pass restarts after its `resultId` expired.
const MAX_READ_BY_QUERY_RESTARTS: u32 = 3;

/// The smallest page size a timed-out read halves down to before giving up.
const MIN_HALVED_PAGE_SIZE: u32 = 100;

/// Why a read stopped early.
enum Stop {
    /// The consumer dropped the receiver: nobody wants more pages.
    ConsumerGone,
    /// The read failed.
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

/// Reads `request` to its end; a failure is the last item sent, and the progress says
/// `finished` however the read ended.
async fn read(
    client: IntacctClient,
    mut request: ReadRequest,
    pages: mpsc::Sender<Result<Page>>,
    progress: watch::Sender<ReadProgress>,
) {
    let resolved = resolve_creation_field(&client, &mut request).await;
    let mut reader = Reader {
        client: &client,
        request: &request,
        pages,
        progress,
        page_no: 0,
        tally: Arc::new(Tally::default()),
    };
    let outcome = match resolved {
        Ok(()) => reader.run().await,
        Err(e) => Err(Stop::Failed(e)),
    };
    let transactions = reader.tally.counts();
    reader.progress.send_modify(|p| {
        p.finished = true;
        p.transactions = transactions;
    });
    match outcome {
        Ok(()) | Err(Stop::ConsumerGone) => {}
        Err(Stop::Failed(error)) => {
            tracing::warn!(object = %request.object, error = %error, "object read failed");
            let _ = reader.pages.send(Err(error)).await;
        }
    }
}

/// The state of one running object read.
struct Reader<'a> {
    client: &'a IntacctClient,
    request: &'a ReadRequest,
    pages: mpsc::Sender<Result<Page>>,
    progress: watch::Sender<ReadProgress>,
    page_no: u64,
    /// The read's own requests, by kind.
    tally: Arc<Tally>,
}

impl Reader<'_> {
    /// How a request of this read of `kind` is sent: charged to the object and the read's
    /// tally; a page that `can_halve` hands a timeout back at once (after a pause) so it is
    /// asked for again at half the size, a page that cannot keeps timeouts retried.
    fn options(&self, kind: TransactionKind, keep_body: bool, can_halve: bool) -> CallOptions {
        CallOptions {
            charge: Charge {
                tally: Some(self.tally.clone()),
                ..Charge::new(&self.request.object, kind)
            },
            keep_body,
            page_too_big_fails_fast: can_halve,
            generic_error_attempts: None,
        }
    }

    async fn run(&mut self) -> std::result::Result<(), Stop> {
        if self.request.condition.is_some() && self.request.method != ReadMethod::Query {
            return Err(Stop::Failed(Error::InvalidRequest(format!(
                "{}: an extra read condition needs method query, not readByQuery",
                self.request.object
            ))));
        }
        let mut select = self.select().await?;
        if self.request.method == ReadMethod::Query {
            // Fields lookup lists but query refuses: the deny list, and what the gateway
            // refused earlier in this run, never the paging keys.
            let object = &self.request.object;
            let deny: Vec<String> = objects::not_queryable(object)
                .iter()
                .map(|f| f.to_string())
                .chain(self.client.refused_fields(object))
                .filter(|f| !self.request.keys.all().any(|k| k.eq_ignore_ascii_case(f)))
                .filter(|f| select.iter().any(|s| s.eq_ignore_ascii_case(f)))
                .collect();
            if !deny.is_empty() {
                self.client.remember_refused(object, &deny);
                select.retain(|s| !deny.iter().any(|d| d.eq_ignore_ascii_case(s)));
            }
        }
        let passes = self.passes();
        let resume_from = self
            .request
            .resume_after
            .as_ref()
            .and_then(|c| passes.iter().position(|p| *p == c.pass))
            .unwrap_or(0);
        for pass in passes.into_iter().skip(resume_from) {
            match self.request.method {
                ReadMethod::Query => self.keyset_pass(&mut select, pass).await?,
                ReadMethod::ReadByQuery => self.read_by_query_pass(&select, pass).await?,
            }
        }
        Ok(())
    }

    /// The passes of the read: a `query` of a RECORDNO-ordered object reads both with one
    /// `or` of their conditions ([`Pass::Combined`]); `readByQuery`, whose query strings this
    /// client keeps to one `AND` chain, reads them one after the other.
    fn passes(&self) -> Vec<Pass> {
        let r = self.request;
        let combined = r.method == ReadMethod::Query
            && r.keys.order == PageOrder::RecordKey
            && r.keys.created.is_some();
        if combined {
            vec![Pass::Combined]
        } else {
            r.keys.passes()
        }
    }

    /// The configured fields, or `lookup`'s, with the paging keys always present.
    async fn select(&self) -> Result<Vec<String>> {
        let mut fields = match &self.request.fields {
            Some(fields) => fields.clone(),
            None => {
                let meta = self.client.lookup(&self.request.object).await?;
                meta.fields.iter().map(|f| f.name.clone()).collect()
            }
        };
        for required in self.request.keys.all() {
            if !fields.iter().any(|f| f.eq_ignore_ascii_case(required)) {
                fields.push(required.to_owned());
            }
        }
        Ok(fields)
    }

    /// One `query` pass: keyset chains over RECORDNO ranges of the window, as many at once as
    /// the request allows (see the module docs). With one chain (`slices` = 1, or an object
    /// ordered otherwise) this is the plain keyset read, each page carrying its cursor.
    async fn keyset_pass(
        &mut self,
        select: &mut Vec<String>,
        pass: Pass,
    ) -> std::result::Result<(), Stop> {
        let r = self.request;
        let client = self.client;
        let tz = client.tenant_time_zone();
        let sliced =
            r.slices > 1 && r.keys.order == PageOrder::RecordKey && !r.keys.record_key_text;
        let mut chains = vec![Chain {
            after: r.resume_after.clone().filter(|c| c.pass == pass),
            upper: None,
            page_size: r.page_size.clamp(1, 2_000),
            in_flight: false,
            done: false,
        }];
        // The pass's highest key, once the first page showed more pages follow.
        let mut highest: Option<u64> = None;
        let mut first_of_pass = true;
        // Bumped when refused fields are dropped: a page sent before that is sent again.
        let mut select_version = 0u32;
        let mut pending = FuturesUnordered::new();
        loop {
            for (id, chain) in chains.iter_mut().enumerate() {
                if chain.in_flight || chain.done {
                    continue;
                }
                chain.in_flight = true;
                let mut filter = keyset_filter(&r.keys, pass, &r.window, chain.after.as_ref(), tz);
                if let Some(upper) = chain.upper {
                    filter = restrict(filter, Some(&key_at_most(&r.keys, upper)));
                }
                let filter = restrict(filter, r.condition.as_ref());
                let query = keyset_query(&r.object, select, &r.keys, pass, filter, chain.page_size);
                let label = format!(
                    "{}-{}-p{}",
                    r.batch_label,
                    r.object,
                    self.page_no + 1 + pending.len() as u64
                );
                let version = select_version;
                let options = CallOptions {
                    generic_error_attempts: r.generic_error_attempts,
                    ..self.options(
                        page_kind(&r.object),
                        r.keep_raw,
                        chain.page_size > MIN_HALVED_PAGE_SIZE,
                    )
                };
                pending.push(async move {
                    let outcome = client
                        .call_with(&label, &Call::Query(query), &options)
                        .await;
                    (id, version, outcome)
                });
            }
            let Some((id, version, outcome)) = pending.next().await else {
                return Ok(());
            };
            let chain = &mut chains[id];
            chain.in_flight = false;
            let (records, raw) = match outcome.and_then(|(data, raw)| records_of(r, data, raw)) {
                Ok(page) => page,
                // Before other Intacct failures: DL02000001 (a query that ran out of time)
                // is one.
                Err(e) if is_page_too_big(&e) && chain.page_size > MIN_HALVED_PAGE_SIZE => {
                    // Large objects time out on big pages: the same page, half as big, on the
                    // first timeout (the client paused before handing it back), never the
                    // same heavy page again.
                    chain.page_size = (chain.page_size / 2).max(MIN_HALVED_PAGE_SIZE);
                    tracing::warn!(object = %r.object, page_size = chain.page_size, error = %e, "page timed out; halving the page size");
                    continue;
                }
                Err(Error::Intacct(failure))
                    if !objects::refused_in_failure(&failure).is_empty() =>
                {
                    // The gateway names fields lookup listed but query refuses: drop them,
                    // remember that for the run, and send the page once more.
                    let named: Vec<String> = objects::refused_in_failure(&failure)
                        .into_iter()
                        .filter(|f| !r.keys.all().any(|k| k.eq_ignore_ascii_case(f)))
                        .collect();
                    if !named.is_empty() && version < select_version {
                        continue;
                    }
                    let refused: Vec<String> = named
                        .into_iter()
                        .filter(|f| select.iter().any(|s| s.eq_ignore_ascii_case(f)))
                        .collect();
                    if refused.is_empty() || select_version > 0 {
                        return Err(Stop::Failed(Error::Intacct(failure)));
                    }
                    tracing::warn!(object = %r.object, fields = ?refused, "query refused fields; reading without them");
                    client.remember_refused(&r.object, &refused);
                    select.retain(|s| !refused.iter().any(|d| d.eq_ignore_ascii_case(s)));
                    select_version += 1;
                    continue;
                }
                Err(e) => return Err(Stop::Failed(e)),
            };
            let last = is_last_page(&records, chain.page_size);
            let cursor = cursor_after(&records, &r.keys, pass, tz)?;
            check_progress(
                &r.object,
                r.keys.order,
                chain.after.as_ref(),
                cursor.as_ref(),
                last,
            )?;
            if let Some(c) = cursor {
                chain.after = Some(c);
            }
            chain.done = last;
            // Pages of several chains interleave, so no single position says what is done.
            let position = if sliced { None } else { chain.after.clone() };
            // Decided on the pass's first page, by what the gateway says is left: a probe pays
            // off only when more than two pages follow, so at least two more chains can run.
            let probe = sliced
                && first_of_pass
                && !last
                && remaining_after(&records)
                    .is_none_or(|rows| rows > 2 * u64::from(chain.page_size));
            self.deliver(pass, records, raw, first_of_pass, position)
                .await?;
            first_of_pass = false;
            if probe {
                highest = self.highest_key(pass).await;
            }
            if let Some(highest) = highest {
                split_idle_chains(&mut chains, highest, r.slices as usize);
            }
        }
    }

    /// The highest record key of `pass` in the window (one row, key only, descending), to
    /// split the rest of the pass by; `None` (read as one chain) when the gateway does not
    /// say, so the read never depends on the probe.
    async fn highest_key(&self, pass: Pass) -> Option<u64> {
        let r = self.request;
        let tz = self.client.tenant_time_zone();
        let filter = restrict(
            keyset_filter(&r.keys, pass, &r.window, None, tz),
            r.condition.as_ref(),
        );
        let query = highest_key_query(&r.object, &r.keys, filter);
        let label = format!("{}-{}-top", r.batch_label, r.object);
        let column = column_name(&r.keys.record_key);
        match self
            .client
            .call_with(
                &label,
                &Call::Query(query),
                &self.options(TransactionKind::Probe, false, false),
            )
            .await
        {
            Ok((ResultData::Records(page), _)) => {
                let highest = page.get(0, &column).and_then(|k| k.trim().parse().ok());
                tracing::debug!(object = %r.object, ?pass, ?highest, "highest key of the pass");
                highest
            }
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(object = %r.object, ?pass, %error, "could not read the highest key; reading the pass as one chain");
                None
            }
        }
    }

    /// One `readByQuery` pass. `readByQuery` promises no order, so an expired `resultId`
    /// restarts the whole pass; pages already delivered are delivered again (the loader's
    /// MERGE deduplicates on RECORDNO).
    async fn read_by_query_pass(
        &mut self,
        select: &[String],
        pass: Pass,
    ) -> std::result::Result<(), Stop> {
        let r = self.request;
        let tz = self.client.tenant_time_zone();
        let page_size = r.page_size.clamp(1, 1_000);
        let mut restarts = 0;
        'restart: loop {
            let query = read_by_query(&r.object, select, &r.keys, pass, &r.window, page_size, tz);
            let (mut records, mut raw) = self.fetch_page(Call::ReadByQuery(query)).await?;
            let mut first = true;
            loop {
                let result_id = records.result_id.clone();
                let more = !records.is_empty() && records.num_remaining.is_some_and(|n| n > 0);
                self.deliver(pass, records, raw, first, None).await?;
                first = false;
                let Some(result_id) = result_id.filter(|_| more) else {
                    return Ok(());
                };
                match self.fetch_page(Call::ReadMore { result_id }).await {
                    Ok(next) => (records, raw) = next,
                    Err(Stop::Failed(Error::Intacct(f)))
                        if is_expired_result_id(&f) && restarts < MAX_READ_BY_QUERY_RESTARTS =>
                    {
                        restarts += 1;
                        tracing::warn!(object = %r.object, restarts, "resultId expired; restarting the pass");
                        continue 'restart;
                    }
                    Err(other) => return Err(other),
                }
            }
        }
    }

    /// Sends the call for the next page and returns its records (and its raw body when the
    /// request keeps raw pages).
    async fn fetch_page(
        &mut self,
        call: Call,
    ) -> std::result::Result<(RecordPage, Option<Bytes>), Stop> {
        let r = self.request;
        let label = format!("{}-{}-p{}", r.batch_label, r.object, self.page_no + 1);
        let options = self.options(page_kind(&r.object), r.keep_raw, false);
        let (data, raw) = self.client.call_with(&label, &call, &options).await?;
        Ok(records_of(r, data, raw)?)
    }

    async fn deliver(
        &mut self,
        pass: Pass,
        records: RecordPage,
        raw: Option<Bytes>,
        first_of_pass: bool,
        cursor_after: Option<Cursor>,
    ) -> std::result::Result<(), Stop> {
        self.page_no += 1;
        check_unique_keys(
            &self.request.object,
            self.page_no,
            &self.request.keys,
            &records,
        )
        .map_err(Stop::Failed)?;
        let total_count = if first_of_pass {
            records.total_count
        } else {
            None
        };
        let rows = records.len() as u64;
        tracing::debug!(object = %self.request.object, page = self.page_no, rows, ?pass, "page read");
        let page = Page {
            object: self.request.object.clone(),
            page_no: self.page_no,
            pass,
            records,
            total_count,
            cursor_after,
            raw,
        };
        self.pages
            .send(Ok(page))
            .await
            .map_err(|_| Stop::ConsumerGone)?;
        let transactions = self.tally.counts();
        self.progress.send_modify(|p| {
            p.pages += 1;
            p.records += rows;
            p.transactions = transactions;
            if let Some(total) = total_count {
                p.total_count = Some(p.total_count.unwrap_or(0) + total);
            }
        });
        Ok(())
    }
}

/// A page never lists one record twice: Intacct's keys are unique, so a page that does is
/// not what the gateway stored, and staging either copy would be a guess at which is true.
fn check_unique_keys(
    object: &str,
    page_no: u64,
    keys: &KeyFields,
    records: &RecordPage,
) -> Result<()> {
    let column = crate::intacct::names::column_name(&keys.record_key);
    let Some(index) = records.column_index(&column) else {
        return Ok(());
    };
    let mut seen = std::collections::HashSet::with_capacity(records.len());
    for row in 0..records.len() {
        if let Some(key) = records.value(row, index)
            && !seen.insert(key.trim())
        {
            return Err(malformed(format!(
                "page {page_no} of {object} lists {column} {} twice",
                key.trim()
            )));
        }
    }
    Ok(())
}

/// A `readMore` refused because its `resultId` expired or is unknown: the remedy is to run
/// the `readByQuery` again.
fn is_expired_result_id(failure: &IntacctFailure) -> bool {
    failure.class() == FailureClass::ResultIdExpired
}

/// The records of a page's result; a result of another kind is a malformed response.
fn records_of(
    request: &ReadRequest,
    data: ResultData,
    raw: Option<Bytes>,
) -> Result<(RecordPage, Option<Bytes>)> {
    match data {
        ResultData::Records(page) => Ok((page, raw)),
        ResultData::Empty => Ok((RecordPage::default(), raw)),
        _ => Err(malformed(format!(
            "a page of {} returned no record list",
            request.object
        ))),
    }
}

/// Rows the gateway says follow `page` in its query: `numremaining`, else `totalcount` less
/// the page; `None` when it says neither.
fn remaining_after(page: &RecordPage) -> Option<u64> {
    page.num_remaining.or_else(|| {
        page.total_count
            .map(|total| total.saturating_sub(page.len() as u64))
    })
}

/// One keyset chain of a pass: the rows of its RECORDNO range, page after page.
struct Chain {
    /// The last row delivered (or the range's exclusive lower end); `None` before the pass's
    /// first page.
    after: Option<Cursor>,
    /// The range's inclusive upper end; `None` for the chain that reads to the end.
    upper: Option<u64>,
    /// Rows per page (halved when pages time out).
    page_size: u32,
    /// A request of the chain is on its way.
    in_flight: bool,
    /// The chain's last page arrived.
    done: bool,
}

impl Chain {
    /// The keys the chain has yet to read, up to `highest` (the pass's highest key when the
    /// read started) for the chain that reads to the end.
    fn span(&self, highest: u64) -> u64 {
        let after = match self.after.as_ref().map(|c| &c.record_no) {
            Some(RecordKey::Integer(after)) => *after,
            _ => return 0,
        };
        self.upper.unwrap_or(highest).saturating_sub(after)
    }
}

/// Splits idle chains at the middle of their key range until `target` chains are unfinished,
/// widest first. Only a chain with no request on its way is split, so no row is read by two
/// chains; a range narrower than two pages of keys is not split (it holds at most two pages).
fn split_idle_chains(chains: &mut Vec<Chain>, highest: u64, target: usize) {
    while chains.iter().filter(|c| !c.done).count() < target {
        let Some(widest) = chains
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.done && !c.in_flight)
            .max_by_key(|(_, c)| c.span(highest))
            .map(|(i, _)| i)
        else {
            return;
        };
        let chain = &mut chains[widest];
        let span = chain.span(highest);
        if span < 2 * u64::from(chain.page_size) {
            return;
        }
        let Some(after) = chain.after.clone() else {
            return;
        };
        let RecordKey::Integer(from) = after.record_no else {
            return;
        };
        let middle = from + span / 2;
        let upper = chain.upper.replace(middle);
        let page_size = chain.page_size;
        chains.push(Chain {
            after: Some(Cursor {
                record_no: RecordKey::Integer(middle),
                ..after
            }),
            upper,
            page_size,
            in_flight: false,
            done: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[tokio::test]
    async fn a_reader_that_dies_is_never_taken_for_a_finished_read() {
        let (_tx, progress) = watch::channel(ReadProgress::default());
        let (_pages_tx, pages) = mpsc::channel(1);
        let panicked = ObjectRead {
            pages,
            progress,
            task: tokio::spawn(async { panic!("reader bug") }),
        };
        match panicked.finish("APBILL").await {
            Err(Error::ReadIncomplete { object, message }) => {
                assert_eq!(object, "APBILL");
                assert!(message.contains("panicked"), "{message}");
            }
            other => panic!("expected an incomplete read, got {other:?}"),
        }
        let (done_tx, progress) = watch::channel(ReadProgress::default());
        done_tx.send_modify(|p| p.finished = true);
        let (_pages_tx, pages) = mpsc::channel(1);
        let finished = ObjectRead {
            pages,
            progress,
            task: tokio::spawn(async {}),
        };
        assert!(finished.finish("APBILL").await.is_ok());
        let (_tx, progress) = watch::channel(ReadProgress::default());
        let (_pages_tx, pages) = mpsc::channel(1);
        let stopped = ObjectRead {
            pages,
            progress,
            task: tokio::spawn(async {}),
        };
        assert!(matches!(
            stopped.finish("APBILL").await,
            Err(Error::ReadIncomplete { .. })
        ));
    }

    fn chain(after: u64, upper: Option<u64>) -> Chain {
        Chain {
            after: Some(Cursor {
                pass: Pass::Modified,
                instant: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
                record_no: RecordKey::Integer(after),
            }),
            upper,
            page_size: 100,
            in_flight: false,
            done: false,
        }
    }

    /// `(after, upper)` of every unfinished chain, by `after`.
    fn ranges(chains: &[Chain]) -> Vec<(u64, Option<u64>)> {
        let mut out: Vec<_> = chains
            .iter()
            .filter(|c| !c.done)
            .map(|c| match c.after.as_ref().map(|a| &a.record_no) {
                Some(RecordKey::Integer(a)) => (*a, c.upper),
                other => panic!("{other:?}"),
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_rest_of_a_pass_splits_into_disjoint_ranges_that_cover_it() {
        let mut chains = vec![chain(2_000, None)];
        split_idle_chains(&mut chains, 10_000, 3);
        // (2000, 6000], (6000, 8000] and (8000, end): the last keeps no upper end, so a
        // row past the probed highest key is still read.
        assert_eq!(
            ranges(&chains),
            [(2_000, Some(6_000)), (6_000, Some(8_000)), (8_000, None)]
        );
    }

    #[test]
    fn only_idle_wide_chains_split() {
        // The widest chain has a request on its way: its range may be half read already.
        let mut busy = chain(0, Some(9_000));
        busy.in_flight = true;
        let mut chains = vec![busy, chain(9_000, None)];
        chains.push(Chain {
            done: true,
            ..chain(0, Some(0))
        });
        split_idle_chains(&mut chains, 10_000, 3);
        assert_eq!(
            ranges(&chains),
            [(0, Some(9_000)), (9_000, Some(9_500)), (9_500, None)]
        );
        // Less than two pages of keys left: not worth a chain.
        let mut chains = vec![chain(9_850, None)];
        split_idle_chains(&mut chains, 10_000, 3);
        assert_eq!(ranges(&chains), [(9_850, None)]);
        // A chain past the probed highest key has nothing to split.
        let mut chains = vec![chain(12_000, None)];
        split_idle_chains(&mut chains, 10_000, 3);
        assert_eq!(ranges(&chains), [(12_000, None)]);
    }
}
