-- Expand only: reserve_many_v1 reserves several checkouts' orders in one round trip and
-- one transaction, each exactly as reserve_v3 (migration 0005) reserves one: all of an
-- order's items or none of them, one conditional UPDATE per item, the first product short,
-- deleted or unknown named. Concurrent checkouts reach the reservation together (the order
-- service batches them: POST /internal/reservations/batch), and one commit serves them
-- all. reserve_v3 stays for single calls and the other slot's code. The rules of migration
-- 0003's header hold.
--
-- p_orders is a JSON array of [order_id, [[product_id, quantity], ...]], the orders
-- distinct and sorted by order id, each order's items distinct and sorted by product id
-- (domain/reservation.rs checks both). p_locks is the JSON array of every product id the
-- orders name, distinct and ascending: the batch locks those rows first, in that order,
-- the order every reservation takes them in, so a batch never deadlocks with another
-- batch or with a single reservation on products.
--
-- Each order runs inside a savepoint: an order short of stock is undone alone
-- (ROLLBACK TO SAVEPOINT) and the rest of the batch goes on. An order that has a
-- reservation already (a replay, or a retry that got there first) meets the primary key;
-- that insert alone is undone and the order answers 'exists' (the caller replays it the
-- single way, which compares its items). Any other error rolls the whole batch back and
-- is re-raised.
--
-- The answer is one row with one column, `answer`, sent after the COMMIT: a JSON array
-- with one [order_id, outcome, detail] per order, in the order given:
-- - 'reserved': detail is [[product_id, quantity, name, price, currency], ...], the
--   items in the order given, priced from the rows this transaction held;
-- - 'out_of_stock': detail is the first product short; nothing of the order was kept;
-- - 'exists': detail is null; nothing was written for the order.
-- Numbers are CAST: MariaDB writes a routine's variables into JSON as strings.
CREATE PROCEDURE reserve_many_v1(
    IN p_orders LONGTEXT CHARACTER SET ascii COLLATE ascii_bin,
    IN p_locks LONGTEXT CHARACTER SET ascii COLLATE ascii_bin,
    IN p_now DATETIME(6)
)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
    COMMENT 'storage/reservations.rs reserve_many: several orders, each all or none'
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_orders);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_j INT;
    DECLARE v_order BIGINT UNSIGNED;
    DECLARE v_items LONGTEXT CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_product BIGINT UNSIGNED;
    DECLARE v_quantity INT;
    DECLARE v_short BIGINT UNSIGNED;
    DECLARE v_exists INT DEFAULT 0;
    DECLARE v_locked BIGINT UNSIGNED;
    DECLARE v_name VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_price BIGINT;
    DECLARE v_currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_lines LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_answer LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT '[]';
    DECLARE CONTINUE HANDLER FOR 1062 SET v_exists = 1;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_locked = NULL;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    SET v_j = 0;
    WHILE v_j < JSON_LENGTH(p_locks) DO
        SET v_product = JSON_VALUE(p_locks, CONCAT('$[', v_j, ']'));
        SELECT id INTO v_locked FROM products WHERE id = v_product FOR UPDATE;
        SET v_j = v_j + 1;
    END WHILE;

    WHILE v_i < v_count DO
        SET v_order = JSON_VALUE(p_orders, CONCAT('$[', v_i, '][0]'));
        SET v_items = JSON_EXTRACT(p_orders, CONCAT('$[', v_i, '][1]'));
        IF v_order IS NULL OR v_items IS NULL THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'an order is [order_id, items]';
        END IF;
        SAVEPOINT one_order;
        SET v_exists = 0;
        SET v_short = NULL;
        SET v_lines = '[]';
        INSERT INTO reservations (order_id, status, created_at, updated_at)
            VALUES (v_order, 'reserved', p_now, p_now);
        IF v_exists = 0 THEN
            SET v_j = 0;
            each_item: WHILE v_j < JSON_LENGTH(v_items) DO
                SET v_product = JSON_VALUE(v_items, CONCAT('$[', v_j, '][0]'));
                SET v_quantity = JSON_VALUE(v_items, CONCAT('$[', v_j, '][1]'));
                IF v_product IS NULL OR v_quantity IS NULL THEN
                    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'an item is [product_id, quantity]';
                END IF;
                UPDATE products SET stock = stock - v_quantity, updated_at = p_now
                    WHERE id = v_product AND deleted_at IS NULL AND stock >= v_quantity;
                IF ROW_COUNT() <> 1 THEN
                    SET v_short = v_product;
                    LEAVE each_item;
                END IF;
                SELECT name, price, currency INTO v_name, v_price, v_currency
                    FROM products WHERE id = v_product;
                INSERT INTO reservation_items (order_id, product_id, quantity, price)
                    VALUES (v_order, v_product, v_quantity, v_price);
                IF v_exists = 1 THEN
                    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'an order names a product twice';
                END IF;
                SET v_lines = JSON_ARRAY_APPEND(v_lines, '$', JSON_ARRAY(
                    CAST(v_product AS UNSIGNED), CAST(v_quantity AS SIGNED), v_name,
                    CAST(v_price AS SIGNED), v_currency));
                SET v_j = v_j + 1;
            END WHILE;
        END IF;
        IF v_exists = 1 THEN
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                JSON_ARRAY(CAST(v_order AS UNSIGNED), 'exists', NULL));
        ELSEIF v_short IS NOT NULL THEN
            ROLLBACK TO SAVEPOINT one_order;
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                JSON_ARRAY(CAST(v_order AS UNSIGNED), 'out_of_stock', CAST(v_short AS UNSIGNED)));
        ELSE
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                JSON_ARRAY(CAST(v_order AS UNSIGNED), 'reserved', JSON_EXTRACT(v_lines, '$')));
        END IF;
        RELEASE SAVEPOINT one_order;
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT v_answer AS answer;
END;
