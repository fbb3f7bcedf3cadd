-- Expand only: `reservation_commit_many_v1` commits several orders' reservations in one
-- round trip and one transaction, for the order service's batched commits (concurrent
-- checkouts share one call: docs/checkout.md "The steps"). `reservation_commit_v1` stays
-- for single commits and for the other slot's code.
--
-- The same rules as migration 0003 (its header): the statuses and guards are the Rust
-- enum's (tests/api/reservation_rule.rs calls this one from every status too), errors
-- roll back and are re-raised unchanged, timestamps are the caller's, SQL SECURITY INVOKER,
-- status variables ascii_bin like the column.
--
-- p_order_ids is a JSON array of order ids; the caller sends them ascending, the order the
-- rows are locked in, so two batches never deadlock on each other. Each id gets exactly
-- what reservation_commit_v1 would have done and answered, all in one transaction: the
-- answer is one result set, a row per id in the order given, sent after the COMMIT:
--     order_id, outcome, status
-- with outcome and status as reservation_commit_v1 answers them ('moved' / 'unchanged' /
-- 'refused' / 'not_found'). When the UPDATE changed nothing the status is read with a
-- locking read, so it is the latest (a consistent read inside the transaction could show
-- an older one).
CREATE PROCEDURE reservation_commit_many_v1(
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
                                             JSON_OBJECT('id', v_id, 'outcome', 'moved',
                                                         'status', 'committed'));
        ELSE
            SET v_status = NULL;
            SELECT status INTO v_status FROM reservations WHERE order_id = v_id
                LOCK IN SHARE MODE;
            SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                JSON_OBJECT('id', v_id,
                            'outcome', CASE
                                           WHEN v_status IS NULL THEN 'not_found'
                                           WHEN v_status = 'committed' THEN 'unchanged'
                                           ELSE 'refused'
                                       END,
                            'status', v_status));
        END IF;
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT j.order_id, j.outcome, j.status
      FROM JSON_TABLE(v_answer, '$[*]' COLUMNS (
               n FOR ORDINALITY,
               order_id BIGINT UNSIGNED PATH '$.id',
               outcome VARCHAR(16) PATH '$.outcome',
               status VARCHAR(16) PATH '$.status'
           )) AS j
     ORDER BY j.n;
END;
