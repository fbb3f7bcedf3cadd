//! `GET /api/products`, `GET /api/products/{id}`, `GET /api/categories` (public, cached;
//! products with their stock overlaid on a hit, categories as they are: they show no stock).

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{PageOf, PageQuery, Paging, PathId};
use warp::reply::Response;
use warp::Filter;

use crate::domain::{Search, SearchQuery};
use crate::error::ProductError;
use crate::storage::products::{self, Product};
use crate::State;
use mall_http::filters::{json_bytes_reply as json_bytes, with_state};

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let list = warp::path!("api" / "products")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(warp::query::<SearchQuery>())
        .and_then(|s, q| async move { respond(list(s, q).await) });
    let detail = warp::path!("api" / "products" / PathId)
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|PathId(id), s| async move { respond(detail(s, id).await) });
    let categories = warp::path!("api" / "categories")
        .and(warp::get())
        .and(with_state(state))
        .and_then(|s| async move { respond(categories(s).await) });
    list.or(detail).unify().or(categories).unify()
}

async fn list(state: Arc<State>, q: SearchQuery) -> Result<Response, ProductError> {
    let search = Search::parse(&q).map_err(ProductError::validation)?;
    let paging = Paging::try_from_query(PageQuery {
        page: q.page,
        size: q.size,
    })?;
    let key = format!("list:{}", search.cache_key(paging.page, paging.size));
    let pool = state.pool.clone();
    let page = state
        .cache
        .stocked(&state.pool, &key, async move {
            let (items, total) =
                products::search(&pool, &search, paging.offset(), paging.size).await?;
            Ok::<_, ProductError>(PageOf::<Product>::new(items, paging, total))
        })
        .await?;
    Ok(json_bytes(StatusCode::OK, page))
}

async fn detail(state: Arc<State>, id: u64) -> Result<Response, ProductError> {
    let pool = state.pool.clone();
    let found = state
        .cache
        .stocked(&state.pool, &crate::cache::detail_name(id), async move {
            Ok::<_, ProductError>(products::find(&pool, id).await?)
        })
        .await?;
    // The page of an unknown or deleted product is cached as `null`.
    if found == b"null" {
        return Err(ProductError::not_found("no such product"));
    }
    Ok(json_bytes(StatusCode::OK, found))
}

async fn categories(state: Arc<State>) -> Result<Response, ProductError> {
    let pool = state.pool.clone();
    let list = state
        .cache
        .plain("categories", async move {
            Ok::<_, ProductError>(products::categories(&pool).await?)
        })
        .await?;
    Ok(json_bytes(StatusCode::OK, list))
}
