//! `webhook-load`: the GoHighLevel webhook intake benchmark (issue #6, section 7), a load generator
//! run as a second process against a running `rolodex-server` on PostgreSQL with its in-process
//! worker (`ROLODEX_WORKER=on`).
//!
//! 1. Starts a [`GhlMock`] (in this process) and connects its location through the server's API
//!    (`POST /v1/connections`, `base_url` = the mock), then waits until the server's initial
//!    reconciliation is done.
//! 2. Pre-builds every delivery before the clock starts, from the mock's state as HighLevel would
//!    send it ([`GhlMock::webhook`]): mostly `ContactCreate` for new people, `ContactUpdate` of
//!    some earlier ones, a few `ContactTagUpdate` / `ContactDndUpdate`; each has a unique
//!    `webhookId` and is signed with [`WebhookSigner::default`] (`x-ghl-signature`).
//! 3. Sends them **open loop** at a fixed `--rate` for `--warmup` + `--duration` over keep-alive
//!    HTTP/1.1 connections (reqwest): request `i` is due at `start + i / rate` and its latency is
//!    measured from that intended start, not from when it was actually sent, so a server that falls
//!    behind cannot hide the queueing (no coordinated omission). The warm-up requests are sent but
//!    not counted.
//! 4. Prints the achieved rate, the time-to-200 percentiles, status counts and errors; then polls
//!    the database (`--database-url`, read only) until the backlog (unprocessed receipts and
//!    active `remote` jobs) is drained, and prints the drain time and the worker's apply rate and
//!    per-delivery apply time, measured from the receipts' `received_at` / `processed_at`.
//! 5. The alternative, applying each delivery inside the request, is bounded from the same run: its
//!    sustainable rate is at most the worker's apply rate (same code, same database), and its
//!    time-to-200 includes one apply. The ratio intake rate / apply rate is printed.
//!
//! Ends with one JSON summary line.
//!
//! ```sh
//! cargo build --release -p rolodex-bench --bin webhook-load -p rolodex-server
//! webhook-load --url http://127.0.0.1:18080 --api-key rk_... \
//!   --database-url postgres://postgres@127.0.0.1:5432/rolodex_load --rate 1000 --duration 30s
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable, Timestamp};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rolodex_bench::cpu_seconds;
use rolodex_testkit::mocks::ghl::{GhlMock, LOCATION_ID, WebhookSigner};
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, PrimitiveDateTime};
use tokio::sync::Semaphore;

#[derive(Debug, Parser)]
#[command(about = "Open-loop load on POST /v1/webhooks/ghl, then waits for the worker to drain the backlog")]
struct Args {
    /// The server's base URL (what `rolodex-server` printed after `Listening on`).
    #[arg(long)]
    url: String,
    /// An API key with `manage_integrations` (the admin key printed on the first start).
    #[arg(long, env = "ROLODEX_API_KEY")]
    api_key: String,
    /// The server's PostgreSQL database (read only: backlog and apply figures).
    #[arg(long, env = "ROLODEX_DATABASE_URL")]
    database_url: String,
    /// Deliveries per second, offered open loop.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// How long to send at `--rate` (measured part): `30s`, `2m`, `500ms` or seconds.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Sent at the same rate before the measured part and not counted (connections, caches).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    warmup: Duration,
    /// Most requests in flight at once; requests beyond it wait (and that wait counts in their
    /// latency, which runs from their intended start).
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    /// Tokio worker threads of this generator (the server needs the other cores).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Share of the deliveries that are `ContactUpdate`s of contacts created earlier in the run.
    #[arg(long, default_value_t = 0.2)]
    update_share: f64,
    /// Share that are `ContactTagUpdate`s.
    #[arg(long, default_value_t = 0.03)]
    tag_share: f64,
    /// Share that are `ContactDndUpdate`s.
    #[arg(long, default_value_t = 0.02)]
    dnd_share: f64,
    /// Seed of the mix.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Do not create the connection (the location is already connected, e.g. by an earlier run).
    #[arg(long)]
    skip_connect: bool,
    /// Give up waiting for the worker after this long.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// The server's process id, to report its CPU time during the send phase.
    #[arg(long)]
    server_pid: Option<u32>,
    /// A free-form label copied into the JSON summary (e.g. the load average).
    #[arg(long, default_value = "")]
    label: String,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a duration like 30s, 2m or 500ms"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("`{s}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// xorshift64*: a small deterministic generator for the mix.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

/// One pre-built, signed delivery.
struct Delivery {
    kind: &'static str,
    body: Vec<u8>,
    signature: String,
}

const GIVEN: [&str; 12] =
    ["Ann", "Bob", "Chen", "Dana", "Eve", "Farid", "Gita", "Hugo", "Ines", "Jon", "Kemal", "Lena"];
const FAMILY: [&str; 10] =
    ["Lee", "Smith", "Garcia", "Nguyen", "Okafor", "Rossi", "Kowalski", "Tanaka", "Silva", "Brown"];
const COMPANIES: [&str; 6] = ["Initech", "Globex", "Umbrella", "Hooli", "Vandelay", "Stark"];

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Builds `total` deliveries from the mock's state: creates of new people, and (once enough exist)
/// updates, tag and do-not-disturb changes of people created at least `lag` deliveries earlier.
fn build_deliveries(mock: &GhlMock, signer: &WebhookSigner, args: &Args, total: usize) -> Result<Vec<Delivery>> {
    let mut rng = Rng(args.seed.max(1));
    let lag = 500usize;
    let mut created: Vec<String> = Vec::with_capacity(total);
    // (position in the run, contact id)
    let mut created_at: Vec<usize> = Vec::with_capacity(total);
    let mut out = Vec::with_capacity(total);
    for i in 0..total {
        // Contacts old enough to be changed: created at least `lag` deliveries ago.
        let eligible = created_at.partition_point(|&p| p + lag <= i);
        let r = rng.unit();
        let (kind, id) = if eligible >= 100 && r < args.update_share + args.tag_share + args.dnd_share {
            let id = created[rng.below(eligible)].clone();
            let n = rng.next() % 1000;
            if r < args.update_share {
                let change = match n % 3 {
                    0 => json!({"companyName": COMPANIES[rng.below(COMPANIES.len())], "city": "Portland"}),
                    1 => json!({"lastName": format!("{}-{n}", FAMILY[rng.below(FAMILY.len())])}),
                    _ => json!({"address1": format!("{n} Main St"), "postalCode": "97201", "country": "US"}),
                };
                let _ = mock.update_raw(&id, &object(change));
                ("ContactUpdate", id)
            } else if r < args.update_share + args.tag_share {
                let _ = mock.update_raw(&id, &object(json!({"tags": ["lead", format!("campaign-{}", n % 20)]})));
                ("ContactTagUpdate", id)
            } else {
                let _ = mock.update_raw(&id, &object(json!({"dnd": n.is_multiple_of(2)})));
                ("ContactDndUpdate", id)
            }
        } else {
            let given = GIVEN[i % GIVEN.len()];
            let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
            let body = json!({
                "locationId": LOCATION_ID,
                "firstName": given,
                "lastName": family,
                "email": format!("{}.{}.{i}@example.com", given.to_lowercase(), family.to_lowercase()),
                // Valid US numbers: exchange 200-999, one per delivery.
                "phone": format!("+1415{:03}{:04}", 200 + (i / 10_000) % 800, i % 10_000),
                "companyName": COMPANIES[i % COMPANIES.len()],
                "tags": ["lead"],
                "source": "webhook-load",
            });
            let stored = mock.insert_raw(&object(body));
            let id = stored.get("id").and_then(Value::as_str).ok_or_else(|| anyhow!("mock returned no id"))?.to_owned();
            created.push(id.clone());
            created_at.push(i);
            ("ContactCreate", id)
        };
        let body = mock.webhook(kind, &id).ok_or_else(|| anyhow!("mock has no contact {id}"))?;
        let signature = signer.sign(&body);
        out.push(Delivery { kind, body, signature });
    }
    Ok(out)
}

/// What one request did.
#[derive(Debug, Clone)]
struct Sample {
    measured: bool,
    /// 0 when no answer came (transport error).
    status: u16,
    ack: &'static str,
    /// From the intended start to the whole answer.
    latency: Duration,
    /// From the actual send to the whole answer (what a closed-loop tool would report).
    service: Duration,
    error: Option<String>,
}

async fn send(
    client: reqwest::Client,
    url: Arc<str>,
    d: Delivery,
    intended: Instant,
    measured: bool,
    slots: Arc<Semaphore>,
) -> Sample {
    let _permit = slots.acquire_owned().await.ok();
    let sent = Instant::now();
    let result = client
        .post(&*url)
        .header("content-type", "application/json")
        .header("x-ghl-signature", d.signature)
        .body(d.body)
        .send()
        .await;
    let (status, ack, error) = match result {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(b) => {
                    let text = String::from_utf8_lossy(&b);
                    let ack = if text.contains("\"accepted\"") {
                        "accepted"
                    } else if text.contains("\"duplicate\"") {
                        "duplicate"
                    } else if text.contains("\"ignored\"") {
                        "ignored"
                    } else {
                        "other"
                    };
                    let error =
                        (status != 200).then(|| format!("{status}: {}", text.chars().take(200).collect::<String>()));
                    (status, ack, error)
                }
                Err(e) => (status, "other", Some(format!("reading the answer: {e}"))),
            }
        }
        Err(e) => (0, "none", Some(format!("{e}"))),
    };
    let done = Instant::now();
    Sample {
        measured,
        status,
        ack,
        latency: done.saturating_duration_since(intended),
        service: done.saturating_duration_since(sent),
        error,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Debug, QueryableByName)]
struct Backlog {
    #[diesel(sql_type = BigInt)]
    receipts: i64,
    #[diesel(sql_type = BigInt)]
    jobs: i64,
}

async fn backlog(db: &mut AsyncPgConnection, all_queues: bool) -> Result<Backlog> {
    let queue = if all_queues { "" } else { "queue = 'remote' and " };
    let sql = format!(
        "select (select count(*) from webhook_receipts where processed_at is null)::bigint as receipts, \
         (select count(*) from jobs where {queue}state in ('available', 'retryable', 'running'))::bigint as jobs"
    );
    diesel::sql_query(sql).get_result(db).await.context("counting the backlog")
}

#[derive(Debug, QueryableByName)]
struct ApplyFigures {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    unprocessed: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
    #[diesel(sql_type = Nullable<Double>)]
    apply_span: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    first_wait: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    gap_p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    gap_p90: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    gap_p99: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    wait_p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    wait_p99: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    wait_max: Option<f64>,
}

/// The worker's figures for the receipts received since `since` (UTC), from their timestamps:
/// the span of `processed_at`, the gaps between consecutive completions (with one job at a time,
/// the time one delivery takes: claim, apply, complete) and the wait from receipt to processed.
async fn apply_figures(db: &mut AsyncPgConnection, since: PrimitiveDateTime) -> Result<ApplyFigures> {
    let sql = "with r as (\
          select received_at, processed_at, error, \
                 processed_at - lag(processed_at) over (order by processed_at) as gap \
          from webhook_receipts where received_at >= $1) \
        select count(*)::bigint as n, \
          count(*) filter (where processed_at is null)::bigint as unprocessed, \
          count(*) filter (where error is not null)::bigint as failed, \
          extract(epoch from max(processed_at) - min(processed_at))::float8 as apply_span, \
          extract(epoch from min(processed_at) - min(received_at))::float8 as first_wait, \
          (percentile_cont(0.5) within group (order by extract(epoch from gap)))::float8 as gap_p50, \
          (percentile_cont(0.9) within group (order by extract(epoch from gap)))::float8 as gap_p90, \
          (percentile_cont(0.99) within group (order by extract(epoch from gap)))::float8 as gap_p99, \
          (percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at)))::float8 as wait_p50, \
          (percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at)))::float8 as wait_p99, \
          extract(epoch from max(processed_at - received_at))::float8 as wait_max \
        from r";
    diesel::sql_query(sql).bind::<Timestamp, _>(since).get_result(db).await.context("reading the apply figures")
}

#[derive(Debug, QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(db: &mut AsyncPgConnection, sql: &str) -> Result<i64> {
    let c: Count = diesel::sql_query(sql).get_result(db).await.with_context(|| format!("running `{sql}`"))?;
    Ok(c.n)
}

/// user + system CPU seconds of process `pid` (Linux).
fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// (busy, total) jiffies of the whole machine, from `/proc/stat`.
fn machine_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn now_utc() -> PrimitiveDateTime {
    let t = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(t.date(), t.time())
}

async fn connect_location(client: &reqwest::Client, args: &Args, mock: &GhlMock) -> Result<()> {
    let body = json!({
        "provider": "ghl",
        "account": LOCATION_ID,
        "access_token": mock.access_token().ok_or_else(|| anyhow!("the mock has no access token"))?,
        "base_url": mock.uri(),
        // One reconciliation now (the initial import of an empty location); none during the run.
        "reconcile_every_minutes": 1440,
    });
    let response = client
        .post(format!("{}/v1/connections", args.url.trim_end_matches('/')))
        .bearer_auth(&args.api_key)
        .json(&body)
        .send()
        .await
        .context("POST /v1/connections")?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.as_u16() != 201 {
        bail!("POST /v1/connections answered {status}: {text}");
    }
    println!("connected location {LOCATION_ID} to the mock at {}", mock.uri());
    Ok(())
}

async fn wait_idle(db: &mut AsyncPgConnection, timeout: Duration, all_queues: bool) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let b = backlog(db, all_queues).await?;
        if b.receipts == 0 && b.jobs == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            bail!("backlog not drained after {timeout:?}: {} receipts, {} jobs", b.receipts, b.jobs);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.rate.is_finite() || args.rate <= 0.0 {
        bail!("--rate must be positive");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run(args))
}

#[allow(clippy::too_many_lines)]
async fn run(args: Args) -> Result<()> {
    let client = rolodex_http::build_client(&rolodex_http::ClientOptions {
        user_agent: "webhook-load".to_owned(),
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
    })
    .map_err(|e| anyhow!("building the HTTP client: {e}"))?;
    let mut db = AsyncPgConnection::establish(&args.database_url).await.context("connecting to --database-url")?;
    let mock = GhlMock::start().await;
    let signer = WebhookSigner::default();
    println!("signer public key (ROLODEX_GHL_WEBHOOK_PUBLIC_KEY): {}", signer.public_key_base64());

    if !args.skip_connect {
        connect_location(&client, &args, &mock).await?;
        // The first reconciliation is scheduled at once; let it be claimed, then wait for it.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let waited = wait_idle(&mut db, Duration::from_secs(120), true).await?;
        println!("initial reconciliation done ({:.1} s more)", waited.as_secs_f64());
    }

    let warmup_n = (args.warmup.as_secs_f64() * args.rate).round() as usize;
    let measured_n = (args.duration.as_secs_f64() * args.rate).round() as usize;
    let total = warmup_n + measured_n;
    // Deliveries carry `timestamp` = when they were built; the server refuses them after 300 s.
    let built_at = Instant::now();
    let deliveries = build_deliveries(&mock, &signer, &args, total)?;
    let mut mix: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &deliveries {
        *mix.entry(d.kind).or_default() += 1;
    }
    let build_s = built_at.elapsed().as_secs_f64();
    println!("built {total} signed deliveries in {build_s:.1} s ({warmup_n} warm-up + {measured_n} measured): {mix:?}");
    if build_s + (args.warmup + args.duration).as_secs_f64() > 280.0 {
        bail!(
            "the run would send deliveries more than 280 s after their timestamp (the server allows 300 s): shorten it"
        );
    }

    let url: Arc<str> = Arc::from(format!("{}/v1/webhooks/ghl", args.url.trim_end_matches('/')));
    let slots = Arc::new(Semaphore::new(args.max_in_flight.max(1)));
    let interval = 1.0 / args.rate;
    let since = now_utc();
    let load_before = load_average();
    let (cpu0, machine0, server0) = (cpu_seconds(), machine_jiffies(), args.server_pid.and_then(process_cpu_seconds));
    println!(
        "sending at {} /s for {:?} (+{:?} warm-up), load average {load_before}",
        args.rate, args.duration, args.warmup
    );

    let start = Instant::now() + Duration::from_millis(100);
    let mut handles = Vec::with_capacity(total);
    let mut max_lag = Duration::ZERO;
    for (i, d) in deliveries.into_iter().enumerate() {
        let intended = start + Duration::from_secs_f64(i as f64 * interval);
        if intended > Instant::now() {
            tokio::time::sleep_until(intended.into()).await;
        }
        max_lag = max_lag.max(Instant::now().saturating_duration_since(intended));
        handles.push(tokio::spawn(send(client.clone(), url.clone(), d, intended, i >= warmup_n, slots.clone())));
    }
    let mut samples = Vec::with_capacity(total);
    for h in handles {
        samples.push(h.await.context("a request task failed")?);
    }
    let sent_done = Instant::now();
    let (cpu1, machine1, server1) = (cpu_seconds(), machine_jiffies(), args.server_pid.and_then(process_cpu_seconds));
    let load_after = load_average();

    // Intake figures (measured part only).
    let measured_start = start + Duration::from_secs_f64(warmup_n as f64 * interval);
    let measured: Vec<&Sample> = samples.iter().filter(|s| s.measured).collect();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut acks: BTreeMap<&str, usize> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut ok: Vec<Duration> = Vec::with_capacity(measured.len());
    let mut service: Vec<Duration> = Vec::with_capacity(measured.len());
    for s in &measured {
        *statuses.entry(s.status).or_default() += 1;
        *acks.entry(s.ack).or_default() += 1;
        if let Some(e) = &s.error {
            *errors.entry(e.chars().take(120).collect()).or_default() += 1;
        }
        if s.status == 200 {
            ok.push(s.latency);
            service.push(s.service);
        }
    }
    // The last answer of the measured part: its intended start plus its latency.
    let mut completion_end = measured_start;
    for (i, s) in samples.iter().enumerate() {
        if s.measured {
            completion_end = completion_end.max(start + Duration::from_secs_f64(i as f64 * interval) + s.latency);
        }
    }
    ok.sort_unstable();
    service.sort_unstable();
    let n_errors = measured.len() - ok.len();
    let window = completion_end.saturating_duration_since(measured_start).as_secs_f64();
    let achieved = ok.len() as f64 / window.max(1e-9);
    let (p50, p90, p99, p999) =
        (percentile(&ok, 0.5), percentile(&ok, 0.9), percentile(&ok, 0.99), percentile(&ok, 0.999));
    let max = ok.last().copied().unwrap_or_default();
    let send_s = sent_done.saturating_duration_since(start).as_secs_f64();
    let machine_busy = match (machine0, machine1) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => Some((b1 - b0) as f64 / (t1 - t0) as f64),
        _ => None,
    };
    let client_cpu = cpu0.zip(cpu1).map(|(a, b)| b - a);
    let server_cpu = server0.zip(server1).map(|(a, b)| b - a);

    println!();
    println!(
        "intake (measured {measured_n} deliveries over {:.1} s, offered {} /s):",
        args.duration.as_secs_f64(),
        args.rate
    );
    println!("  achieved:      {achieved:.0} 200s/s ({} answered 200 of {})", ok.len(), measured.len());
    println!(
        "  time-to-200:   p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms (from the intended start)",
        ms(p50),
        ms(p90),
        ms(p99),
        ms(p999),
        ms(max)
    );
    println!(
        "  service time:  p50 {:.2} ms  p99 {:.2} ms (from the actual send; what a closed-loop tool would show)",
        ms(percentile(&service, 0.5)),
        ms(percentile(&service, 0.99))
    );
    println!("  statuses:      {statuses:?}  acks: {acks:?}  errors: {n_errors}");
    for (e, n) in &errors {
        println!("    {n} x {e}");
    }
    println!("  generator:     max dispatch lag {:.2} ms, CPU {:.1} s", ms(max_lag), client_cpu.unwrap_or(0.0));
    if let Some(c) = server_cpu {
        println!("  server CPU:    {c:.1} s in {send_s:.1} s ({:.2} cores)", c / send_s);
    }
    if let Some(b) = machine_busy {
        println!(
            "  machine busy:  {:.0}% of all cores; load average {load_before} before, {load_after} after",
            b * 100.0
        );
    }

    // The backlog.
    let at_end = backlog(&mut db, false).await?;
    println!();
    println!(
        "backlog when sending ended: {} unprocessed receipts, {} active remote jobs",
        at_end.receipts, at_end.jobs
    );
    let drain = wait_idle(&mut db, args.drain_timeout, false).await?;
    let drained_at = sent_done + drain;
    let since_first = drained_at.saturating_duration_since(start).as_secs_f64();
    let f = apply_figures(&mut db, since).await?;
    let dead =
        count(&mut db, "select count(*)::bigint as n from jobs where queue = 'remote' and state = 'dead'").await?;
    let pushes = count(&mut db, "select count(*)::bigint as n from jobs where kind = 'remote.push'").await?;
    let contacts = count(&mut db, "select count(*)::bigint as n from contacts").await?;
    let span = f.apply_span.unwrap_or(0.0);
    let apply_rate = if span > 0.0 { (f.n - 1).max(0) as f64 / span } else { 0.0 };
    let gap = |v: Option<f64>| v.unwrap_or(0.0) * 1000.0;
    println!("drained {:.1} s after sending ended ({since_first:.1} s after the first delivery)", drain.as_secs_f64());
    println!(
        "worker (remote queue): {} receipts of this run, {} unprocessed, {} failed, {dead} dead jobs, {pushes} push jobs, {contacts} contacts",
        f.n, f.unprocessed, f.failed
    );
    println!(
        "  apply rate:    {apply_rate:.0} deliveries/s ({} in {span:.1} s between the first and last processed_at)",
        f.n
    );
    println!(
        "  per delivery:  p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms (gap between consecutive completions: claim + apply + complete)",
        gap(f.gap_p50),
        gap(f.gap_p90),
        gap(f.gap_p99)
    );
    println!(
        "  receipt to processed: p50 {:.1} s  p99 {:.1} s  max {:.1} s; first processed {:.2} s after the first receipt",
        f.wait_p50.unwrap_or(0.0),
        f.wait_p99.unwrap_or(0.0),
        f.wait_max.unwrap_or(0.0),
        f.first_wait.unwrap_or(0.0)
    );
    let ratio = if apply_rate > 0.0 { achieved / apply_rate } else { 0.0 };
    let sync_p50 = ms(p50) + gap(f.gap_p50);
    println!();
    println!("alternative (apply inside the request, bounded from this run):");
    println!(
        "  sustainable rate <= {apply_rate:.0} /s (the worker's apply rate); time-to-200 >= intake + one apply ~ {sync_p50:.1} ms at p50 when idle, unbounded queueing above {apply_rate:.0} /s"
    );
    println!("  ratio: intake {achieved:.0} /s / apply {apply_rate:.0} /s = {ratio:.1}x");
    let met = ok.len() == measured.len() && achieved >= 0.98 * args.rate && ms(p99) < 50.0 && args.rate >= 1000.0;
    println!("target (>= 1000/s sustained, p99 < 50 ms, no errors): {}", if met { "MET" } else { "NOT met" });

    let summary = json!({
        "bench": "webhook-load",
        "label": args.label,
        "rate_offered": args.rate,
        "duration_s": args.duration.as_secs_f64(),
        "warmup_s": args.warmup.as_secs_f64(),
        "mix": mix,
        "measured": measured.len(),
        "ok": ok.len(),
        "errors": n_errors,
        "statuses": statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<Map<String, Value>>(),
        "achieved_per_s": (achieved * 10.0).round() / 10.0,
        "p50_ms": ms(p50), "p90_ms": ms(p90), "p99_ms": ms(p99), "p999_ms": ms(p999), "max_ms": ms(max),
        "service_p50_ms": ms(percentile(&service, 0.5)), "service_p99_ms": ms(percentile(&service, 0.99)),
        "max_dispatch_lag_ms": ms(max_lag),
        "client_cpu_s": client_cpu, "server_cpu_s": server_cpu, "machine_busy": machine_busy,
        "load_before": load_before, "load_after": load_after,
        "backlog_at_end": at_end.receipts,
        "drain_s": drain.as_secs_f64(),
        "first_to_drained_s": since_first,
        "receipts": f.n, "failed": f.failed, "dead_jobs": dead, "push_jobs": pushes, "contacts": contacts,
        "apply_per_s": (apply_rate * 10.0).round() / 10.0,
        "apply_gap_p50_ms": gap(f.gap_p50), "apply_gap_p99_ms": gap(f.gap_p99),
        "wait_p50_s": f.wait_p50, "wait_max_s": f.wait_max,
        "intake_over_apply": (ratio * 10.0).round() / 10.0,
        "target_met": met,
    });
    println!("{summary}");
    Ok(())
}
