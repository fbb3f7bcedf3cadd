-- Expand only: every move of a reservation is now one stored procedure, one round trip
-- each (docs/architecture.md "Where each state transition lives"): reserve_v2 (beside
-- reserve_v1, which the other blue/green slot may still call: removing it later is a
-- contract step, docs/deploy.md "Migrations"), reservation_commit_v1 and
-- reservation_release_v1 (until now Rust transactions of 2 to 4 + n statements). Their only
-- caller is storage/reservations.rs; tests/api/reservation_procedures.rs is their contract.
--
-- - Each is atomic: a client that goes away mid-call leaves all of it or none of it
--   (reserve and release hold a transaction; commit is one conditional UPDATE). Any
--   error inside rolls back and is re-raised unchanged (RESIGNAL keeps the
--   error number, SQLSTATE and message: the service tells a replayed reserve by 1062).
-- - Each answers its outcome as a VALUE in its first column, `outcome`, never by the shape
--   or the column names of its answer; the caller decodes it strictly (an outcome it does
--   not know is an error, not a guess).
-- - The statuses spelled here ('reserved', 'committed', 'released') are the Rust enum
--   ReservationStatus's names (domain/reservation.rs), and the guards below are its
--   can_commit / can_release: tests/api/reservation_rule.rs calls each procedure from
--   every status and checks it against them.
-- - Local variables that hold a status are declared ascii / ascii_bin like the column:
--   undeclared ones would take the database's default (utf8mb4_unicode_ci), and
--   `v_status = 'reserved'` would then compare case-insensitively.
-- - Timestamps are the caller's (DATETIME(6)), never the server's clock.
-- - SQL SECURITY INVOKER: runs with the caller's privileges (the service user's, on its
--   own database), whoever ran this migration.
-- - A routine runs under the sql_mode in force when it was created (this migration's
--   connection), not the caller's.
--
-- Portable to MySQL 8.0.4+ and MariaDB 10.6+ (JSON_TABLE; no BEGIN NOT ATOMIC). No
-- DELIMITER: the server parses each BEGIN ... END body whole, even when the file is sent
-- as one multi-statement query.

-- reserve_v1's semantics exactly (all items or none, one conditional UPDATE per item in
-- the order given, the first short, deleted or unknown product named, a replay meets the
-- primary key: error 1062, everything rolled back). Its answer is one result set whose
-- every row is
--     outcome, product_id, name, price, currency
-- - outcome 'reserved': one row per item, in the order given, with the product's name,
--   price and currency, read while the rows are still locked, so before the COMMIT: the
--   caller reads the CALL to its end (the closing OK packet, or the error of a failed
--   commit) before it trusts them;
-- - outcome 'out_of_stock': exactly one row, product_id the first product short, name,
--   price and currency NULL; nothing was kept.
CREATE PROCEDURE reserve_v2(
    IN p_order_id BIGINT UNSIGNED,
    IN p_items JSON,
    IN p_now DATETIME(6)
)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
    COMMENT 'storage/reservations.rs reserve: all items or none, in one round trip'
BEGIN
    DECLARE v_done BOOLEAN DEFAULT FALSE;
    DECLARE v_product BIGINT UNSIGNED;
    DECLARE v_quantity INT;
    DECLARE v_short BIGINT UNSIGNED DEFAULT NULL;
    -- p_items is [[product_id, quantity], ...] sorted by product id: the order every
    -- reservation locks rows in, so two reservations never deadlock.
    DECLARE items CURSOR FOR
        SELECT j.product_id, j.quantity
        FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
            n FOR ORDINALITY,
            product_id BIGINT UNSIGNED PATH '$[0]' ERROR ON EMPTY ERROR ON ERROR,
            quantity INT PATH '$[1]' ERROR ON EMPTY ERROR ON ERROR
        )) AS j
        ORDER BY j.n;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;
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
    OPEN items;
    each_item: LOOP
        FETCH items INTO v_product, v_quantity;
        IF v_done THEN
            LEAVE each_item;
        END IF;
        UPDATE products SET stock = stock - v_quantity, updated_at = p_now
            WHERE id = v_product AND deleted_at IS NULL AND stock >= v_quantity;
        IF ROW_COUNT() <> 1 THEN
            SET v_short = v_product;
            LEAVE each_item;
        END IF;
    END LOOP;
    CLOSE items;

    IF v_short IS NOT NULL THEN
        ROLLBACK;
        SELECT 'out_of_stock' AS outcome, v_short AS product_id,
               CAST(NULL AS CHAR) AS name, CAST(NULL AS SIGNED) AS price,
               CAST(NULL AS CHAR) AS currency;
    ELSE
        INSERT INTO reservation_items (order_id, product_id, quantity, price)
            SELECT p_order_id, p.id, j.quantity, p.price
            FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
                product_id BIGINT UNSIGNED PATH '$[0]',
                quantity INT PATH '$[1]'
            )) AS j
            JOIN products p ON p.id = j.product_id;
        SELECT 'reserved' AS outcome, p.id AS product_id, p.name, p.price, p.currency
            FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
                n FOR ORDINALITY,
                product_id BIGINT UNSIGNED PATH '$[0]'
            )) AS j
            JOIN products p ON p.id = j.product_id
            ORDER BY j.n;
        COMMIT;
    END IF;
END;

-- reserved -> committed (the order was paid). Idempotent. The answer is one row, sent
-- after the UPDATE (committed on its own):
--     outcome, status
-- - 'moved': it was reserved and is committed now (status 'committed');
-- - 'unchanged': it was committed already (status 'committed'); nothing written;
-- - 'refused': its status allows no commit (status says which: 'released'); nothing
--   written;
-- - 'not_found': no reservation of this order (status NULL).
CREATE PROCEDURE reservation_commit_v1(
    IN p_order_id BIGINT UNSIGNED,
    IN p_now DATETIME(6)
)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
    COMMENT 'storage/reservations.rs commit: reserved -> committed, in one round trip'
BEGIN
    DECLARE v_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin DEFAULT NULL;
    -- No reservation: v_status stays NULL.
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_status = NULL;

    -- The move is one conditional UPDATE, committed on its own (autocommit; no explicit
    -- transaction, so no locking read first and nothing a client that goes away can leave
    -- half done): 9 in 10 checkouts end here, at the cost the Rust commit had. Only when it
    -- changed nothing is the status read, to say why; a concurrent move of the same order
    -- after the UPDATE can only have gone forward, which the answer then names.
    UPDATE reservations SET status = 'committed', updated_at = p_now
        WHERE order_id = p_order_id AND status = 'reserved';
    IF ROW_COUNT() = 1 THEN
        SELECT 'moved' AS outcome, 'committed' AS status;
    ELSE
        SELECT status INTO v_status FROM reservations WHERE order_id = p_order_id;
        SELECT CASE
                   WHEN v_status IS NULL THEN 'not_found'
                   WHEN v_status = 'committed' THEN 'unchanged'
                   ELSE 'refused'
               END AS outcome,
               v_status AS status;
    END IF;
END;

-- reserved or committed -> released (a failed or cancelled order), putting each item's
-- quantity back on its product's stock, once. Idempotent. The answer is one row, sent
-- after the COMMIT:
--     outcome, status, product_ids
-- - 'moved': released now (status 'released'); product_ids is the JSON array of the
--   products whose stock went back up, in product id order;
-- - 'unchanged': it was released already (status 'released'), nothing written,
--   product_ids NULL;
-- - 'not_found': no reservation of this order (the order failed before reserving):
--   nothing to put back, status and product_ids NULL.
-- A status that allows no release and is not 'released' answers 'refused' with it (no
-- status of ReservationStatus does).
CREATE PROCEDURE reservation_release_v1(
    IN p_order_id BIGINT UNSIGNED,
    IN p_now DATETIME(6)
)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
    COMMENT 'storage/reservations.rs release: reserved or committed -> released, restocked once'
BEGIN
    DECLARE v_done BOOLEAN DEFAULT FALSE;
    DECLARE v_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin DEFAULT NULL;
    DECLARE v_outcome VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_product BIGINT UNSIGNED;
    DECLARE v_quantity INT;
    DECLARE v_products JSON DEFAULT NULL;
    -- A plain (consistent, unlocking) read of the items, opened once the reservation's row
    -- is locked. Locking the items too (FOR UPDATE over reservation_items) took next-key
    -- locks up to the end of that index, where concurrent reservations insert their items
    -- while holding the product rows this restock needs: deadlocks under load (test
    -- `declines_of_one_hot_product_at_once_never_deadlock`). Product id order: the order
    -- every reservation locks product rows in.
    DECLARE items CURSOR FOR
        SELECT product_id, quantity FROM reservation_items
            WHERE order_id = p_order_id ORDER BY product_id;
    -- Both the status read (no reservation) and the cursor's end.
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    SELECT status INTO v_status FROM reservations WHERE order_id = p_order_id FOR UPDATE;
    IF v_status IS NULL THEN
        SET v_outcome = 'not_found';
    ELSEIF v_status = 'reserved' OR v_status = 'committed' THEN
        SET v_done = FALSE, v_products = JSON_ARRAY();
        OPEN items;
        each_item: LOOP
            FETCH items INTO v_product, v_quantity;
            IF v_done THEN
                LEAVE each_item;
            END IF;
            UPDATE products SET stock = stock + v_quantity, updated_at = p_now
                WHERE id = v_product;
            SET v_products = JSON_ARRAY_APPEND(v_products, '$', v_product);
        END LOOP;
        CLOSE items;
        UPDATE reservations SET status = 'released', updated_at = p_now
            WHERE order_id = p_order_id;
        SET v_status = 'released', v_outcome = 'moved';
    ELSEIF v_status = 'released' THEN
        SET v_outcome = 'unchanged';
    ELSE
        SET v_outcome = 'refused';
    END IF;
    COMMIT;
    SELECT v_outcome AS outcome, v_status AS status, v_products AS product_ids;
END;
