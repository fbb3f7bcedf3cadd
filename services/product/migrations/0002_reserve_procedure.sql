-- Expand only: a reservation (POST /internal/reservations, once per checkout) in one CALL,
-- so one round trip instead of 5 + n statements each waking both sides. Its only caller,
-- storage/reservations.rs `reserve`, says what it answers.
--
-- - It holds its whole transaction: a client that goes away mid-call leaves all of it or
--   none of it. Any error inside rolls back and is re-raised unchanged (RESIGNAL keeps the
--   error number, SQLSTATE and message: the service tells a replay by 1062).
-- - The answer is one result set: `out_of_stock` (the first product short, deleted or
--   unknown; everything rolled back), or the items as reserved, read while the rows are
--   still locked, so before the COMMIT: the caller reads the CALL to its end (the closing
--   OK packet, or the error of a failed commit) before it trusts them.
-- - Timestamps are the caller's (DATETIME(6)), never the server's clock.
-- - SQL SECURITY INVOKER: runs with the caller's privileges (the service user's, on its
--   own database), whoever ran this migration. The service user needs CREATE ROUTINE
--   here and EXECUTE to call it.
-- - A routine is an interface between the schema and the code of both blue/green slots,
--   like a column: a change is a new procedure (reserve_v2) beside this one; removing this
--   one later is a contract step (docs/deploy.md "Migrations").
--
-- Portable to MySQL 8.0.4+ and MariaDB 10.6+ (JSON_TABLE; no BEGIN NOT ATOMIC). No
-- DELIMITER: that is the mysql command-line client's; the server parses the BEGIN ... END
-- body whole, even when the file is sent as one multi-statement query.

CREATE PROCEDURE reserve_v1(
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
    -- Any error (the duplicate key of a replay included) undoes everything and reaches the
    -- caller unchanged.
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
    -- One conditional update per item, in order: it is what keeps stock exact under
    -- concurrency, and the first item short (or deleted, or unknown) is the one named.
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
        SELECT v_short AS out_of_stock;
    ELSE
        INSERT INTO reservation_items (order_id, product_id, quantity, price)
            SELECT p_order_id, p.id, j.quantity, p.price
            FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
                product_id BIGINT UNSIGNED PATH '$[0]',
                quantity INT PATH '$[1]'
            )) AS j
            JOIN products p ON p.id = j.product_id;
        -- Read before the commit, while the updates above hold the rows: what is answered
        -- is what was reserved.
        SELECT p.id AS product_id, p.name, p.price, p.currency
            FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
                n FOR ORDINALITY,
                product_id BIGINT UNSIGNED PATH '$[0]'
            )) AS j
            JOIN products p ON p.id = j.product_id
            ORDER BY j.n;
        COMMIT;
    END IF;
END;
