-- Expand only: `order_create_v2` creates an order with its lines and total in the same
-- transaction as the order and its `pending` history row, so that a checkout no longer
-- writes its lines in two more statements after the reservation (docs/checkout.md "The
-- steps"). The same rules as migration 0003's procedures: errors roll back and are
-- re-raised unchanged (a duplicate (user, key) is told by 1062), the answer is sent after
-- COMMIT, timestamps are the caller's, parameters carry their column's character set,
-- SQL SECURITY INVOKER. `order_create` stays for the other slot's code (a contract step
-- drops it later).
--
-- p_items is a JSON array of `{"product_id", "name", "price", "quantity"}` (the checkout's
-- priced lines, checked by the caller: docs/limits.md). JSON_TABLE reads it: MariaDB 10.6+
-- and MySQL 8.
CREATE PROCEDURE order_create_v2(
    IN p_user_id BIGINT UNSIGNED,
    IN p_idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_total BIGINT,
    IN p_from_cart BOOLEAN,
    IN p_trace_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin,
    IN p_at DATETIME(6),
    IN p_items LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
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
    INSERT INTO orders (user_id, idempotency_key, request_hash, status, total, currency,
                        from_cart, trace_id, created_at, updated_at)
    VALUES (p_user_id, p_idempotency_key, p_request_hash, 'pending', p_total, p_currency,
            p_from_cart, p_trace_id, p_at, p_at);
    SET v_id = LAST_INSERT_ID();
    INSERT INTO order_status_history (order_id, status, at) VALUES (v_id, 'pending', p_at);
    INSERT INTO order_items (order_id, product_id, name, price, quantity)
    SELECT v_id, j.product_id, j.name, j.price, j.quantity
      FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
               product_id BIGINT UNSIGNED PATH '$.product_id' ERROR ON EMPTY ERROR ON ERROR,
               name VARCHAR(200) PATH '$.name' ERROR ON EMPTY ERROR ON ERROR,
               price BIGINT PATH '$.price' ERROR ON EMPTY ERROR ON ERROR,
               quantity INT PATH '$.quantity' ERROR ON EMPTY ERROR ON ERROR
           )) AS j;
    COMMIT;
    SELECT v_id AS id;
END;
