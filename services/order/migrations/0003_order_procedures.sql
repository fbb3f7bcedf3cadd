-- Expand only: two stored procedures, so that creating an order and changing its status
-- each take one round trip (CALL) instead of four (START TRANSACTION, two statements,
-- COMMIT). Each holds its whole transaction: a client that goes away mid-call leaves
-- either all of it or none of it.
--
-- - Any error inside rolls back and is re-raised unchanged (RESIGNAL keeps the error
--   number, SQLSTATE and message: the service tells a duplicate (user, key) by 1062).
-- - The answer is one row, sent after COMMIT: a client that reads it knows it committed.
-- - Timestamps are the caller's (DATETIME(6)), never the server's clock.
-- - String parameters are declared with their column's character set and collation (ascii,
--   ascii_bin): undeclared ones would take the database's default (utf8mb4_unicode_ci),
--   and `status = p_from` would then compare case-insensitively.
-- - SQL SECURITY INVOKER: run with the caller's privileges (the service user's, on its own
--   database), so nothing depends on the account that happened to run this migration.
--   The service user needs CREATE ROUTINE here, and EXECUTE to call them (ALTER ROUTINE
--   for a later step that drops them): scripts/lib/db.sh, compose/mysql-init/.
-- - The routines are an interface between the schema and the code of both blue/green
--   slots, like a column: change one by adding a procedure under a new name; dropping the
--   old one later is a contract step.
--
-- - A routine runs under the sql_mode in force when it was created (this migration's
--   connection: the server's default, as the service's own connections use), not the
--   caller's.
--
-- Portable to MySQL 8 and MariaDB 10.11 (no BEGIN NOT ATOMIC, no CREATE OR REPLACE). No
-- DELIMITER: that is the mysql command-line client's; the server parses each
-- BEGIN ... END body whole, even when the file is sent as one multi-statement query.

CREATE PROCEDURE order_create(
    IN p_user_id BIGINT UNSIGNED,
    IN p_idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_from_cart BOOLEAN,
    IN p_trace_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_at DATETIME(6)
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
    DECLARE v_id BIGINT UNSIGNED;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    INSERT INTO orders (user_id, idempotency_key, request_hash, status, currency, from_cart,
                        trace_id, created_at, updated_at)
    VALUES (p_user_id, p_idempotency_key, p_request_hash, 'pending', p_currency, p_from_cart,
            p_trace_id, p_at, p_at);
    SET v_id = LAST_INSERT_ID();
    INSERT INTO order_status_history (order_id, status, at) VALUES (v_id, 'pending', p_at);
    COMMIT;
    SELECT v_id AS id;
END;

-- The answer: the UPDATE's row count (1 when the order was in p_from and is now in p_to,
-- else 0, and then nothing was written).
CREATE PROCEDURE order_transition(
    IN p_order_id BIGINT UNSIGNED,
    IN p_from VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_to VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_reason VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_payment_id BIGINT UNSIGNED,
    IN p_at DATETIME(6)
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
    DECLARE v_changed BIGINT DEFAULT 0;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    UPDATE orders
       SET status = p_to,
           failure_reason = COALESCE(p_reason, failure_reason),
           payment_id = COALESCE(p_payment_id, payment_id),
           updated_at = p_at
     WHERE id = p_order_id AND status = p_from;
    SET v_changed = ROW_COUNT();
    IF v_changed = 1 THEN
        INSERT INTO order_status_history (order_id, status, at) VALUES (p_order_id, p_to, p_at);
        COMMIT;
    ELSE
        ROLLBACK;
    END IF;
    SELECT v_changed AS changed;
END;
