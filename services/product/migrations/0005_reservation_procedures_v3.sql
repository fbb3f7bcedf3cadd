-- Expand only: the checkout's two reservation procedures without JSON_TABLE. MariaDB
-- materialises every JSON_TABLE in a temporary table; reserve_v2 used three (the cursor,
-- the items' insert and its answer) and reservation_commit_many_v1 one (its answer), about
-- 50 and 45 µs of server CPU per call (docs/performance.md "Issue 19, continued: the
-- procedures' answers"). reserve_v2 and reservation_commit_many_v1 stay for the other
-- slot's code (a contract step drops them later). The rules of migration 0003's header
-- hold for both.

-- reserve_v3: reserve_v2's semantics and answer exactly (its comment in migration 0003),
-- for p_items `[[product_id, quantity], ...]` sorted by product id and distinct, as the
-- caller sends them (domain/reservation.rs): the items are read with JSON_VALUE one by
-- one, each item's line is written right after its stock moved (its price read from the
-- row this transaction holds), and the answer is read back from the lines written, by
-- product id: the order given.
CREATE PROCEDURE reserve_v3(
    IN p_order_id BIGINT UNSIGNED,
    IN p_items JSON,
    IN p_now DATETIME(6)
)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
    COMMENT 'storage/reservations.rs reserve: all items or none, in one round trip'
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_items);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_product BIGINT UNSIGNED;
    DECLARE v_quantity INT;
    DECLARE v_short BIGINT UNSIGNED DEFAULT NULL;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    -- No look-up first: a reservation that exists (a replay, or a concurrent retry that
    -- got there first) meets the primary key here.
    INSERT INTO reservations (order_id, status, created_at, updated_at)
        VALUES (p_order_id, 'reserved', p_now, p_now);
    each_item: WHILE v_i < v_count DO
        SET v_product = JSON_VALUE(p_items, CONCAT('$[', v_i, '][0]'));
        SET v_quantity = JSON_VALUE(p_items, CONCAT('$[', v_i, '][1]'));
        IF v_product IS NULL OR v_quantity IS NULL THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'an item is [product_id, quantity]';
        END IF;
        UPDATE products SET stock = stock - v_quantity, updated_at = p_now
            WHERE id = v_product AND deleted_at IS NULL AND stock >= v_quantity;
        IF ROW_COUNT() <> 1 THEN
            SET v_short = v_product;
            LEAVE each_item;
        END IF;
        INSERT INTO reservation_items (order_id, product_id, quantity, price)
            SELECT p_order_id, id, v_quantity, price FROM products WHERE id = v_product;
        SET v_i = v_i + 1;
    END WHILE;

    IF v_short IS NOT NULL THEN
        ROLLBACK;
        SELECT 'out_of_stock' AS outcome, v_short AS product_id,
               CAST(NULL AS CHAR) AS name, CAST(NULL AS SIGNED) AS price,
               CAST(NULL AS CHAR) AS currency;
    ELSE
        SELECT 'reserved' AS outcome, p.id AS product_id, p.name, r.price, p.currency
            FROM reservation_items r JOIN products p ON p.id = r.product_id
            WHERE r.order_id = p_order_id
            ORDER BY r.product_id;
        COMMIT;
    END IF;
END;

-- reservation_commit_many_v2: reservation_commit_many_v1 (migration 0004) id for id, with
-- its answer in one row with one column, `answer`: a JSON array with one `[order_id,
-- outcome, status]` per id, in the order given, sent after the COMMIT.
-- Numbers are CAST: MariaDB writes a routine's variables into JSON as strings.
CREATE PROCEDURE reservation_commit_many_v2(
    IN p_order_ids LONGTEXT CHARACTER SET ascii COLLATE ascii_bin,
    IN p_now DATETIME(6)
)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
    COMMENT 'storage/reservations.rs commit_many: reserved -> committed for several orders'
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_order_ids);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_id BIGINT UNSIGNED;
    DECLARE v_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin DEFAULT NULL;
    DECLARE v_answer LONGTEXT CHARACTER SET ascii COLLATE ascii_bin DEFAULT '[]';
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_status = NULL;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    WHILE v_i < v_count DO
        SET v_id = JSON_VALUE(p_order_ids, CONCAT('$[', v_i, ']'));
        UPDATE reservations SET status = 'committed', updated_at = p_now
            WHERE order_id = v_id AND status = 'reserved';
        IF ROW_COUNT() = 1 THEN
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                JSON_ARRAY(CAST(v_id AS UNSIGNED), 'moved', 'committed'));
        ELSE
            SET v_status = NULL;
            SELECT status INTO v_status FROM reservations WHERE order_id = v_id
                LOCK IN SHARE MODE;
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                JSON_ARRAY(CAST(v_id AS UNSIGNED),
                           CASE
                               WHEN v_status IS NULL THEN 'not_found'
                               WHEN v_status = 'committed' THEN 'unchanged'
                               ELSE 'refused'
                           END,
                           v_status));
        END IF;
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT v_answer AS answer;
END;
