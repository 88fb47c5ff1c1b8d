//! Work shared out over the machine's cores: parsing posts and highlighting code, each
//! item independent of the others.

/// Calls `work` on every item, the items cut into one run per core (on this thread alone
/// when there are fewer than `at_least` items, where starting threads costs more than it
/// saves).
pub fn each<T: Send>(items: &mut [T], at_least: usize, work: impl Fn(&mut T) + Sync) {
    let threads = if items.len() < at_least {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    if threads == 1 {
        items.iter_mut().for_each(work);
        return;
    }
    let per_thread = items.len().div_ceil(threads).max(1);
    let work = &work;
    std::thread::scope(|scope| {
        for chunk in items.chunks_mut(per_thread) {
            scope.spawn(move || chunk.iter_mut().for_each(work));
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_item_is_worked_on_once_in_place_whatever_the_count() {
        for count in [0, 1, 63, 64, 1000] {
            let mut items: Vec<usize> = (0..count).collect();
            super::each(&mut items, 64, |n| *n *= 2);
            assert_eq!(items, (0..count).map(|n| n * 2).collect::<Vec<_>>());
        }
    }
}
