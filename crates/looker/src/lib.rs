//! Extract: the Looker API 4.0 client, resource catalogue, paging and retries.
