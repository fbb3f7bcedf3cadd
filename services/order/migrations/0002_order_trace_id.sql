-- Expand only: the trace id of the request that created the order, so reconciliation
-- settles it under the customer's trace.
ALTER TABLE orders ADD COLUMN trace_id CHAR(32) NULL;
