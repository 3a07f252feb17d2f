package io.nfscsi.concurrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BudgetTest {

    private static Deadline minutes() {
        return Deadline.after(1, TimeUnit.MINUTES);
    }

    @Test
    void tryAcquire_overCapacity_isRefusedAndTakesNothing() {
        Budget budget = new Budget("handles", 10);

        assertThat(budget.tryAcquire(7)).isTrue();
        assertThat(budget.tryAcquire(4)).isFalse();
        assertThat(budget.used()).isEqualTo(7);
        budget.release(7);
        assertThat(budget.tryAcquire(10)).isTrue();
        assertThat(budget.peak()).isEqualTo(10);
    }

    @Test
    void acquire_whenFull_waitsUntilReleased() throws Exception {
        Budget budget = new Budget("bytes", 10);
        budget.acquire(10, minutes());
        CountDownLatch got = new CountDownLatch(1);
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                budget.acquire(5, minutes());
                got.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        assertThat(got.await(200, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(budget.hasWaiters()).isTrue();
        budget.release(10);
        assertThat(got.await(30, TimeUnit.SECONDS)).isTrue();
        waiter.join();
        assertThat(budget.used()).isEqualTo(5);
        assertThat(budget.peak()).isEqualTo(10);
    }

    @Test
    void acquire_deadlinePassesFirst_returnsFalseAndLetsTheNextOneIn() throws Exception {
        Budget budget = new Budget("bytes", 10);
        budget.acquire(8, minutes());

        assertThat(budget.acquire(5, Deadline.after(50, TimeUnit.MILLISECONDS))).isFalse();
        assertThat(budget.hasWaiters()).isFalse();
        assertThat(budget.acquire(2, minutes())).isTrue(); // the abandoned ticket does not block the queue
        assertThat(budget.used()).isEqualTo(10);
    }

    @Test
    void acquire_waiters_areServedInTheOrderTheyAsked() throws Exception {
        Budget budget = new Budget("bytes", 10);
        budget.acquire(10, minutes());
        List<Integer> order = new CopyOnWriteArrayList<>();
        Thread big = Thread.ofPlatform().start(() -> take(budget, 8, order));
        while (!budget.hasWaiters()) {
            Thread.onSpinWait();
        }
        Thread small = Thread.ofPlatform().start(() -> take(budget, 1, order));
        Thread.sleep(100); // let the small one queue behind the big one

        budget.release(3); // fits the small one, not the big one: the small one still waits its turn
        Thread.sleep(100);
        assertThat(order).isEmpty();
        assertThat(budget.used()).isEqualTo(7);
        budget.release(7);
        big.join();
        small.join();

        assertThat(order).containsExactlyInAnyOrder(8, 1);
        assertThat(budget.used()).isEqualTo(9);
        assertThat(budget.peak()).isLessThanOrEqualTo(10);
    }

    private static void take(Budget budget, int amount, List<Integer> order) {
        try {
            budget.acquire(amount, minutes());
            order.add(amount);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void acquire_moreThanCapacity_isRefusedAtOnce() {
        Budget budget = new Budget("handles", 4);

        assertThatThrownBy(() -> budget.acquire(5, minutes())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> budget.release(1)).isInstanceOf(IllegalStateException.class);
    }
}
