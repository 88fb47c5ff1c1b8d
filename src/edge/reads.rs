//! Read counts: a SQLite-backed Durable Object that owns them, and the Worker's client for it.
//! The client never lets the counter slow a page or fail it.

use futures_util::future::{select, Either};
use std::collections::HashMap;
use std::time::Duration;
use worker::{
    durable_object, wasm_bindgen, DurableObject, Delay, Env, Method, Request, RequestInit, Response,
    Result, SqlStorage, State,
};

const BINDING: &str = "READS";
/// All counts live in one object; see the README for the sharding model at scale.
const OBJECT_NAME: &str = "all-posts";
/// How long the index page waits for counts before ranking by date.
const COUNTS_TIMEOUT: Duration = Duration::from_millis(150);

/// Owns every post's read count. Each increment is one SQL upsert; the object runs one
/// request at a time and SQL calls are synchronous, so concurrent reads never lose an increment.
#[durable_object]
pub struct ReadCounter {
    sql: SqlStorage,
}

impl DurableObject for ReadCounter {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS reads (slug TEXT PRIMARY KEY, count INTEGER NOT NULL)",
            None,
        )
        .expect("create reads table");
        Self { sql }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/hit") => {
                let slug = req.text().await?;
                self.handle_hit(&slug)
            }
            (Method::Get, "/counts") => self.handle_counts(),
            _ => Response::error("not found", 404),
        }
    }
}

impl ReadCounter {
    fn handle_hit(&self, slug: &str) -> Result<Response> {
        if slug.is_empty() || slug.len() > crate::content::MAX_SLUG_BYTES {
            return Response::error("bad slug", 400);
        }
        self.sql.exec(
            "INSERT INTO reads (slug, count) VALUES (?, 1) ON CONFLICT(slug) DO UPDATE SET count = count + 1",
            vec![slug.into()],
        )?;
        Response::empty().map(|r| r.with_status(204))
    }

    fn handle_counts(&self) -> Result<Response> {
        #[derive(serde::Deserialize)]
        struct Row {
            slug: String,
            count: f64,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT slug, count FROM reads", None)?.to_array()?;
        let counts: HashMap<String, u64> = rows.into_iter().map(|r| (r.slug, r.count as u64)).collect();
        Response::from_json(&counts)
    }
}

fn stub(env: &Env) -> Result<worker::Stub> {
    env.durable_object(BINDING)?.id_from_name(OBJECT_NAME)?.get_stub()
}

/// Counts one read. Runs after the response has gone (`wait_until`); failures are logged.
pub async fn record(env: Env, slug: String) {
    let result = async {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(slug.clone().into()));
        let req = Request::new_with_init("https://reads/hit", &init)?;
        let resp = stub(&env)?.fetch_with_request(req).await?;
        if resp.status_code() != 204 {
            return Err(worker::Error::RustError(format!("counter answered {}", resp.status_code())));
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        worker::console_error!("recording a read of {slug} failed: {e}");
    }
}

/// Every post's count, or `None` if the counter fails or takes longer than the timeout.
pub async fn counts(env: &Env) -> Option<HashMap<String, u64>> {
    let fetch = async {
        let mut resp = stub(env)?.fetch_with_str("https://reads/counts").await?;
        resp.json::<HashMap<String, u64>>().await
    };
    match select(Box::pin(fetch), Delay::from(COUNTS_TIMEOUT)).await {
        Either::Left((Ok(counts), _)) => Some(counts),
        Either::Left((Err(e), _)) => {
            worker::console_error!("read counts unavailable: {e}");
            None
        }
        Either::Right(_) => {
            worker::console_warn!("read counts took longer than {COUNTS_TIMEOUT:?}; ranking by date");
            None
        }
    }
}
