-- Expand only: `order_transition_many_v1` makes several orders' moves in one round trip
-- and one transaction, for the checkouts that reach `paid` together (their moves are
-- batched: docs/checkout.md "The steps"). Each move is exactly what `order_transition`
-- (migration 0003) does and answers, applied in the order given; the same rules as there
-- (errors roll back everything and are re-raised unchanged, timestamps are the caller's,
-- status variables ascii_bin like the column, SQL SECURITY INVOKER).
--
-- p_moves is a JSON array of `{"order_id", "from", "to", "reason", "payment_id", "at"}`
-- (reason and payment_id may be null: the row keeps its own; at is 'YYYY-MM-DD
-- HH:MM:SS.ffffff'). The caller sends them by ascending order id, the order the rows are
-- locked in, so two batches never deadlock on each other. The answer is one result set, a
-- row per move in the order given, sent after the COMMIT:
--     order_id, changed
-- with changed 1 when the order was in `from` and is now in `to` (one history row
-- written), else 0 (nothing written for it).
CREATE PROCEDURE order_transition_many_v1(
    IN p_moves LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_moves);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_move LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_id BIGINT UNSIGNED;
    DECLARE v_from VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_to VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_reason VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_payment_id BIGINT UNSIGNED;
    DECLARE v_at DATETIME(6);
    DECLARE v_changed INT;
    DECLARE v_answer LONGTEXT CHARACTER SET ascii COLLATE ascii_bin DEFAULT '[]';
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    WHILE v_i < v_count DO
        SET v_move = JSON_EXTRACT(p_moves, CONCAT('$[', v_i, ']'));
        SET v_id = JSON_VALUE(v_move, '$.order_id');
        SET v_from = JSON_VALUE(v_move, '$.from');
        SET v_to = JSON_VALUE(v_move, '$.to');
        SET v_reason = JSON_VALUE(v_move, '$.reason');
        SET v_payment_id = JSON_VALUE(v_move, '$.payment_id');
        SET v_at = JSON_VALUE(v_move, '$.at');
        IF v_id IS NULL OR v_from IS NULL OR v_to IS NULL OR v_at IS NULL THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'a move needs order_id, from, to and at';
        END IF;
        UPDATE orders
           SET status = v_to,
               failure_reason = COALESCE(v_reason, failure_reason),
               payment_id = COALESCE(v_payment_id, payment_id),
               updated_at = v_at
         WHERE id = v_id AND status = v_from;
        SET v_changed = ROW_COUNT();
        IF v_changed = 1 THEN
            INSERT INTO order_status_history (order_id, status, at) VALUES (v_id, v_to, v_at);
        END IF;
        SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                                         JSON_OBJECT('id', v_id, 'changed', v_changed));
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT j.order_id, j.changed
      FROM JSON_TABLE(v_answer, '$[*]' COLUMNS (
               n FOR ORDINALITY,
               order_id BIGINT UNSIGNED PATH '$.id',
               changed INT PATH '$.changed'
           )) AS j
     ORDER BY j.n;
END;
