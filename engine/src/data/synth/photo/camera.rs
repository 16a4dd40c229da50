//! A pinhole camera over the scene: the world is in metres, x to the right, y away from the
//! camera, z up; the surface is the plane z = 0. Pixel coordinates are those of the scene
//! image, which is larger than a frame by a margin the camera's shake and pans move within.

pub type Vec3 = [f64; 3];

pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn scale(a: Vec3, s: f64) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub fn length(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

pub fn normalize(a: Vec3) -> Vec3 {
    let l = length(a);
    if l > 0.0 { scale(a, 1.0 / l) } else { a }
}

/// Where the camera is and how it looks.
#[derive(Debug, Clone, PartialEq)]
pub struct Camera {
    pub position: Vec3,
    right: Vec3,
    down: Vec3,
    forward: Vec3,
    /// Focal length, pixels.
    pub focal: f64,
    /// The principal point, pixels of the scene image.
    pub centre: [f64; 2],
}

impl Camera {
    /// A camera `height` metres above the surface, looking `pitch` radians below the horizon at
    /// the point of the surface straight ahead (the origin), turned by `yaw` about the vertical and
    /// rolled by `roll`, with a vertical field of view `vfov` over `frame_height` pixels, for a
    /// scene image of `size` pixels.
    #[must_use]
    pub fn looking_down(
        height: f64,
        pitch: f64,
        yaw: f64,
        roll: f64,
        vfov: f64,
        frame_height: f64,
        size: [f64; 2],
    ) -> Self {
        let forward = [yaw.sin() * pitch.cos(), yaw.cos() * pitch.cos(), -pitch.sin()];
        let distance = height / pitch.tan();
        let position = [-yaw.sin() * distance, -yaw.cos() * distance, height];
        let right0 = normalize([forward[1], -forward[0], 0.0]);
        let down0 = cross(forward, right0);
        let (s, c) = roll.sin_cos();
        let right = add(scale(right0, c), scale(down0, s));
        let down = sub(scale(down0, c), scale(right0, s));
        Self {
            position,
            right,
            down,
            forward,
            focal: frame_height / 2.0 / (vfov / 2.0).tan(),
            centre: [size[0] / 2.0, size[1] / 2.0],
        }
    }

    /// The pixel a point projects to and its depth along the view axis (metres), if in front.
    #[must_use]
    pub fn project(&self, p: Vec3) -> Option<([f64; 2], f64)> {
        let d = sub(p, self.position);
        let z = dot(d, self.forward);
        (z > 1e-3).then(|| {
            (
                [
                    self.centre[0] + self.focal * dot(d, self.right) / z,
                    self.centre[1] + self.focal * dot(d, self.down) / z,
                ],
                z,
            )
        })
    }

    /// The part of the segment `a`-`b` at least `near` metres in front of the camera, if any.
    #[must_use]
    pub fn clip_segment(&self, a: Vec3, b: Vec3, near: f64) -> Option<(Vec3, Vec3)> {
        let (za, zb) = (dot(sub(a, self.position), self.forward), dot(sub(b, self.position), self.forward));
        if za < near && zb < near {
            return None;
        }
        let cut = |from: Vec3, to: Vec3, zf: f64, zt: f64| add(from, scale(sub(to, from), (near - zf) / (zt - zf)));
        Some(if za < near {
            (cut(a, b, za, zb), b)
        } else if zb < near {
            (a, cut(b, a, zb, za))
        } else {
            (a, b)
        })
    }

    /// The direction (not normalised) of the ray through a pixel.
    #[must_use]
    pub fn ray(&self, px: f64, py: f64) -> Vec3 {
        add(
            self.forward,
            add(
                scale(self.right, (px - self.centre[0]) / self.focal),
                scale(self.down, (py - self.centre[1]) / self.focal),
            ),
        )
    }

    /// Where the ray through a pixel meets the surface (z = 0), if it does.
    #[must_use]
    pub fn ground_at(&self, px: f64, py: f64) -> Option<Vec3> {
        let dir = self.ray(px, py);
        (dir[2] < -1e-9).then(|| add(self.position, scale(dir, -self.position[2] / dir[2])))
    }

    /// Unit vector from a point towards the camera.
    #[must_use]
    pub fn towards(&self, p: Vec3) -> Vec3 {
        normalize(sub(self.position, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_centre_pixel_sees_the_origin_and_projection_inverts_the_ray() {
        let camera = Camera::looking_down(0.8, 0.9, 0.2, 0.05, 0.9, 360.0, [700.0, 400.0]);
        let ([x, y], depth) = camera.project([0.0, 0.0, 0.0]).unwrap();
        assert!((x - 350.0).abs() < 1e-9 && (y - 200.0).abs() < 1e-9);
        assert!((depth - length(camera.position)).abs() < 1e-9);
        let ground = camera.ground_at(123.0, 321.0).unwrap();
        assert!(ground[2].abs() < 1e-12);
        let ([x, y], _) = camera.project(ground).unwrap();
        assert!((x - 123.0).abs() < 1e-6 && (y - 321.0).abs() < 1e-6);
        // Higher in the picture is farther away.
        assert!(camera.ground_at(350.0, 50.0).unwrap()[1] > camera.ground_at(350.0, 350.0).unwrap()[1]);
        // A point above the surface projects higher than its foot.
        let above = camera.project([0.1, 0.1, 0.2]).unwrap().0;
        let foot = camera.project([0.1, 0.1, 0.0]).unwrap().0;
        assert!(above[1] < foot[1]);
        // A segment reaching behind the camera is cut where it comes within 5 cm of it.
        let behind = sub(camera.position, scale(camera.forward, 1.0));
        let (a, b) = camera.clip_segment([0.0, 0.0, 0.0], behind, 0.05).unwrap();
        assert_eq!(a, [0.0, 0.0, 0.0]);
        assert!((camera.project(b).unwrap().1 - 0.05).abs() < 1e-9);
        assert!(camera.clip_segment(behind, add(behind, [0.0, 0.0, 0.1]), 0.05).is_none());
    }
}
