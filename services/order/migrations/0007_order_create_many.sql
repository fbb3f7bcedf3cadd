-- Expand only: `order_create_many_v1` creates several checkouts' orders in one round trip
-- and one transaction, each exactly as `order_create_v2` (migration 0004) creates one:
-- the order `pending`, its `pending` history row and its priced lines. Concurrent
-- checkouts reach the creation together (`mall_runtime::batch`), and one commit serves
-- them all (docs/checkout.md "The steps"). `order_create_v2` stays for the other slot's
-- code. The rules of migration 0003's header hold.
--
-- p_orders is a JSON array, sorted by (user_id, idempotency_key) by the caller (the rows
-- of the unique key it locks), of
--   {"user_id", "key", "hash", "currency", "total", "from_cart" (0 or 1), "trace_id"
--    (or null), "at" ("YYYY-MM-DD HH:MM:SS.ffffff"), "items": [[product_id, name,
--    price, quantity], ...]}
-- (the checkouts' priced lines, checked by the caller: docs/limits.md).
--
-- A (user, key) that exists already (a retry, or a concurrent request with the same key
-- earlier in this batch or committed before it) is not an error here: that order's insert
-- is undone alone (a failed statement changes nothing) and its entry answers null, which
-- the caller reads as the duplicate key order_create_v2 raises. Any other error rolls the
-- whole batch back and is re-raised (a product named twice in one order's lines too: the
-- handler of 1062 sees that one, and raises it as 45000).
--
-- The answer is one row with one column, `answer`: a JSON array with one `[index, id]`
-- per order, in the order given (index from 0; id null for an existing key), sent after
-- the COMMIT. `mall_store::batched::call` reads it. Numbers are CAST: MariaDB writes a
-- routine's variables into JSON as strings.
CREATE PROCEDURE order_create_many_v1(
    IN p_orders LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_orders);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_j INT;
    DECLARE v_order LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_items LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_at DATETIME(6);
    DECLARE v_id BIGINT UNSIGNED;
    DECLARE v_exists INT DEFAULT 0;
    DECLARE v_answer LONGTEXT CHARACTER SET ascii COLLATE ascii_bin DEFAULT '[]';
    DECLARE CONTINUE HANDLER FOR 1062 SET v_exists = 1;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    WHILE v_i < v_count DO
        SET v_order = JSON_EXTRACT(p_orders, CONCAT('$[', v_i, ']'));
        SET v_at = JSON_VALUE(v_order, '$.at');
        SET v_items = JSON_EXTRACT(v_order, '$.items');
        IF v_at IS NULL OR v_items IS NULL OR JSON_VALUE(v_order, '$.user_id') IS NULL THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'an order needs user_id, at and items';
        END IF;
        SET v_exists = 0;
        INSERT INTO orders (user_id, idempotency_key, request_hash, status, total, currency,
                            from_cart, trace_id, created_at, updated_at)
        VALUES (JSON_VALUE(v_order, '$.user_id'), JSON_VALUE(v_order, '$.key'),
                JSON_VALUE(v_order, '$.hash'), 'pending', JSON_VALUE(v_order, '$.total'),
                JSON_VALUE(v_order, '$.currency'), JSON_VALUE(v_order, '$.from_cart'),
                JSON_VALUE(v_order, '$.trace_id'), v_at, v_at);
        IF v_exists = 1 THEN
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$', JSON_ARRAY(CAST(v_i AS UNSIGNED), NULL));
        ELSE
            SET v_id = LAST_INSERT_ID();
            INSERT INTO order_status_history (order_id, status, at) VALUES (v_id, 'pending', v_at);
            SET v_j = 0;
            WHILE v_j < JSON_LENGTH(v_items) DO
                INSERT INTO order_items (order_id, product_id, name, price, quantity)
                VALUES (v_id,
                        JSON_VALUE(v_items, CONCAT('$[', v_j, '][0]')),
                        JSON_VALUE(v_items, CONCAT('$[', v_j, '][1]')),
                        JSON_VALUE(v_items, CONCAT('$[', v_j, '][2]')),
                        JSON_VALUE(v_items, CONCAT('$[', v_j, '][3]')));
                IF v_exists = 1 THEN
                    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'an order names a product twice';
                END IF;
                SET v_j = v_j + 1;
            END WHILE;
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                                             JSON_ARRAY(CAST(v_i AS UNSIGNED), CAST(v_id AS UNSIGNED)));
        END IF;
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT v_answer AS answer;
END;
